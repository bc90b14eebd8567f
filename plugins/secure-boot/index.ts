/** Secure Boot: the validator's rules for machines with Secure Boot on, and the media's EFI binaries for `inspect`. */
import { definePlugin } from "../../core/plugin.ts";
import { PE_CODES } from "../../formats/pe/codes.ts";
import { SECURE_BOOT_CODES } from "./codes.ts";

const plugin = definePlugin({
  name: "SecureBootPlugin",
  describe: "Secure Boot: refuses media whose boot chain the spec's Secure Boot machines would reject",
  // The EFI binary reader's codes: inspect meets them on this plugin's behalf.
  codes: { ...SECURE_BOOT_CODES, ...PE_CODES },
  create: async () => new (await import("./secure-boot-plugin.ts")).SecureBootPlugin(),
});

export default plugin;
