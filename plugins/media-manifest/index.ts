/** The media-manifest built-in: bootmedia/manifest.json, what `inspect --check` verifies media against. */
import { definePlugin } from "../../core/plugin.ts";
import { MEDIA_MANIFEST_CODES } from "./codes.ts";

const plugin = definePlugin({
  name: "MediaManifestPlugin",
  describe: "Records every file's size and sha256, the boot paths and the spec's machines in bootmedia/manifest.json",
  codes: MEDIA_MANIFEST_CODES,
  create: async () => new (await import("./media-manifest-plugin.ts")).MediaManifestPlugin(),
});

export default plugin;
