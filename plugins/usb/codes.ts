/** Codes of the usb plugin: drive safety (BM33xx) and drive verification (BM43xx). */
import { defineCodes } from "../../base/errors.ts";

export const USB_CODES = defineCodes("usb", {
  BM3301: {
    title: "not a removable drive",
    hint: "bootmedia writes only to removable or USB-attached drives; check the device path (lsblk shows RM and TRAN).",
  },
  BM3302: {
    title: "device in use",
    hint: "Unmount every partition of the drive first (e.g. `umount /dev/sdX1`), then run the build again.",
  },
  BM3303: {
    title: "device holds the running system",
    hint: "This drive holds the running system; pick the USB drive you want to erase.",
  },
  BM3304: { title: "device too small", hint: "Use a larger drive, or leave content out." },
  BM3305: { title: "not a whole disk", hint: "Give the whole drive (/dev/sdX), not a partition (/dev/sdX1)." },
  BM3306: {
    title: "device unreadable",
    hint: "Check the device path exists and that you run as root (lsblk must see it).",
  },
  BM3307: {
    title: "confirmation needed",
    hint: "Erasing a drive needs confirmation: answer `yes` at the prompt, or pass --yes in scripts.",
  },
  BM3308: { title: "device is read-only", hint: "Check the drive's write-protect switch." },
  BM4301: {
    title: "device verification failed",
    hint: "The bytes read back differ from what was written: the drive may be failing or counterfeit; try another drive.",
  },
});
