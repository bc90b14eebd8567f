/** Secure Boot: the validator's rules for machines with Secure Boot on, and the media's EFI binaries for `inspect`. */
import { definePlugin } from "../../core/plugin.ts";
import { SECURE_BOOT_CODES } from "./codes.ts";

const plugin = definePlugin({
  name: "SecureBootPlugin",
  describe: "Secure Boot: refuses media whose boot chain the spec's Secure Boot machines would reject",
  codes: SECURE_BOOT_CODES,
  create: async () => new (await import("./secure-boot-plugin.ts")).SecureBootPlugin(),
});

export default plugin;
