/** Codes of stand-alone media (BM61xx): the build refuses, nothing is written. */
import { defineCodes } from "../../base/errors.ts";

export const STANDALONE_CODES = defineCodes("standalone", {
  BM6101: {
    title: "a step uses a package the content library lacks",
    hint: "Add the package to the library (bootmedia library add …), or fix the step's `package` in the task sequence's steps.yaml; stand-alone media carry every package their steps use.",
  },
  BM6102: {
    title: "stand-alone media without a password",
    hint: "Set security.password (--password env:NAME): the packages are then encrypted on the media. To build media anyone can read, say so with security.allowUnprotected (--allow-unprotected).",
  },
  BM6103: {
    title: "stand-alone media carry their content in clear",
    hint: "Anyone holding these media can read the OS image and packages. Set security.password to encrypt them (docs/standalone-media.md).",
  },
  BM6104: {
    title: "stand-alone content larger than the USB image or drive",
    hint: "Give a larger target.size (--size), a larger drive, or a task sequence whose packages are smaller; the message lists the largest packages.",
  },
  BM6105: {
    title: "capacity smaller than disc 1's boot files plus the task sequence",
    hint: "Disc 1 of a stand-alone CD/DVD set holds the boot files, the configuration and the task sequence; choose a larger target.capacity (--capacity dvd).",
  },
  BM6106: {
    title: "the stand-alone CD/DVD set would need more than 99 discs",
    hint: "Check target.capacity (--capacity): it is per disc, in bytes when a number; choose a larger one (dvd, dvd-dl, bd25), or build USB media (--target usb).",
  },
  BM6107: {
    title: "the task sequence has no steps for stand-alone media",
    hint: "Stand-alone media run the task sequence's steps from the media: its task-sequence package needs a steps.yaml (bootmedia library add DIR --type task-sequence, docs/task-sequences.md).",
  },
  BM6108: {
    title: "an apply-image step names a package that is no OS image",
    hint: "apply-image takes an os-image package (bootmedia library add-os-image, docs/content-library.md).",
  },
  BM6109: {
    title: "stand-alone content changed on the media",
    hint: "A package file (joined from its pieces) no longer hashes to bootmedia/standalone/index.json: the media are damaged or were altered; build them again.",
  },
  BM6110: {
    title: "stand-alone media need a content library folder",
    hint: "Give contentLibrary as a folder (or `embedded`): reading a task sequence's steps from a distribution point is not done yet.",
  },
  BM6111: {
    title: "a disc of the stand-alone set is not beside the disc given",
    hint: "Put every disc of the set in one folder, named as the build wrote them (NAME-1.iso, NAME-2.iso, …), then run the command again.",
  },
  BM6112: {
    title: "a file named as a disc of the set is not that disc",
    hint: "It is a disc of another set (another build), another disc of this set, or no stand-alone disc at all (its bootmedia/standalone/disc.txt says which): put the set's own disc there, or build the set again.",
  },
});
