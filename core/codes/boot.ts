/** Codes of the reference boot images and their build script: BM22xx (content), BM52xx (fixtures). */
export const BOOT_CODES = {
  BM2201: { title: "Debian package download failed", hint: "Check that the Debian mirror is reachable and `apt-get update` works, then run `npm run fixtures` again." },
  BM2202: { title: "kernel module missing from the kernel package", hint: "The Debian kernel no longer ships a module the boot image lists: update MODULE_GROUPS in fixtures/boot-images/config.ts." },
  BM2203: { title: "Debian package unusable", hint: "The downloaded .deb could not be unpacked or lacks an expected file; delete fixtures/boot-images/build/debs and run `npm run fixtures` again." },
  BM5201: { title: "fixture build tool missing", hint: "Install the Debian packages fixtures/boot-images/README.md lists (grub-pc-bin, grub-efi-ia32-bin, grub-efi-amd64-bin, kmod, dpkg)." },
  BM5202: { title: "boot file build failed", hint: "grub-mkimage refused the module list or config; the message shows its output." },
  BM5203: { title: "reference boot images not built", hint: "Run `npm run fixtures` to build fixtures/reference/content." },
  BM5204: { title: "SOURCE_DATE_EPOCH invalid", hint: "Set SOURCE_DATE_EPOCH to a whole number of seconds since 1970 (e.g. `git log -1 --format=%ct`), or unset it." },
} as const satisfies Record<string, { title: string; hint: string }>;
