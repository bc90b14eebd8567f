/** Secure Boot: the validator's rules for machines with Secure Boot on, and the media's EFI binaries for `inspect`. */
import { definePlugin } from "../../core/plugin.ts";
import { PE_CODES } from "../../formats/pe/codes.ts";
import { SECURE_BOOT_CODES } from "./codes.ts";
import { SECURE_BOOT } from "./spec.ts";

const plugin = definePlugin({
  name: "SecureBootPlugin",
  describe:
    "Secure Boot: the media's boot chain (unsigned, signed, own-key) and refusal of media the spec's Secure Boot machines would reject",
  sections: [SECURE_BOOT],
  // The EFI binary reader's codes: inspect meets them on this plugin's behalf.
  codes: { ...SECURE_BOOT_CODES, ...PE_CODES },
  create: async () => new (await import("./secure-boot-plugin.ts")).SecureBootPlugin(),
});

export default plugin;
