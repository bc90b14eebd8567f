import { describe, it, expect } from "vitest";
import { SerialScanner, parseMarkers, stripTerminalCodes, FAILURE_SIGNATURES, type SerialEvent } from "./markers.ts";

const bytes = (s: string) => new TextEncoder().encode(s);
const feed = (scanner: SerialScanner, ...chunks: string[]) => chunks.flatMap((c) => scanner.push(bytes(c)));
const kinds = (events: SerialEvent[]) =>
  events.map((e) =>
    e.kind === "marker"
      ? `marker:${e.marker.event}`
      : e.kind === "pass"
        ? `pass:${e.line}`
        : `failure:${e.signature.id}`,
  );

describe("parseMarkers", () => {
  it("reads markers behind terminal codes and twice on one row, as OVMF's console prints them", () => {
    // Copied from a real x86-uefi serial log: console + serial redirection on one row.
    const row =
      '\x1b[0m\x1b[37m\x1b[40m\x1b[H\x1b[J\x1b[1;1HBOOTMEDIA {"event":"grub","cpu":"i386"}BOOTMEDIA {"event":"grub","cpu":"i386"}\r';
    expect(parseMarkers(stripTerminalCodes(row))).toEqual([
      { event: "grub", cpu: "i386" },
      { event: "grub", cpu: "i386" },
    ]);
  });

  it("ignores objects cut short or interleaved, and objects without an event", () => {
    expect(parseMarkers('BOOTMEDIA {"event":"grub","lm":false')).toEqual([]);
    expect(parseMarkers('BOOTMEDIA {"reason":"x"} BOOTMEDIA not json {')).toEqual([]);
    expect(parseMarkers('noise BOOTMEDIA {"event":"error","reason":"a } brace"} tail')).toEqual([
      { event: "error", reason: "a } brace" },
    ]);
  });
});

describe("Secure Boot refusal signatures", () => {
  // Lines copied from real runs on the x64-uefi-sb-* profiles (OVMF 2022.11, shim 16.1, GRUB 2.06).
  it.each([
    [
      'BdsDxe: failed to load Boot0001 "UEFI QEMU DVD-ROM QM00011 " from PciRoot(0x0)/Pci(0x1F,0x2)/Sata(0x5,0xFFFF,0x0): Access Denied',
      "uefi-access-denied",
    ],
    [
      'BdsDxe: failed to start Boot0002 "EFI Internal Shell" from Fv(7CB8BDC9-F8EB-4F34-AAEA-3EE4AF6516A1): Security Violation',
      "uefi-access-denied",
    ],
    ["Verification failed: (0x1A) Security Violation", "shim-verification-failed"],
    ["error: bad shim signature.", "grub-secure-boot-refused"],
  ])("%s -> %s, before the generic UEFI and GRUB signatures", (line, id) => {
    const s = new SerialScanner();
    expect(kinds(feed(s, `${line}\n`))).toEqual([`failure:${id}`]);
    expect(FAILURE_SIGNATURES.find((f) => f.id === id)?.reason).toBe("secure-boot-refused");
  });
  it("a plain load failure without a security status stays no-boot-file", () => {
    const s = new SerialScanner();
    expect(kinds(feed(s, 'BdsDxe: failed to load Boot0001 "UEFI QEMU HARDDISK": Not Found\n'))).toEqual([
      "failure:uefi-load-failed",
    ]);
  });
});

describe("SerialScanner", () => {
  it("joins lines split across chunks, even inside a multi-byte character", () => {
    const s = new SerialScanner();
    const euro = bytes('BOOTMEDIA {"event":"media","id":"€"}\n');
    const events = [...s.push(euro.slice(0, 30)), ...s.push(euro.slice(30, 33)), ...s.push(euro.slice(33))];
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ kind: "marker", marker: { event: "media", id: "€" } });
  });

  it.each([
    ["grub-error", "error: file `/boot/x64/vmlinuz' not found.\n"],
    ["kernel-panic", "[    2.1] Kernel panic - not syncing: VFS: Unable to mount root fs\n"],
    ["kernel-needs-x64", "This kernel requires an x86-64 CPU, but only detected an i686 CPU.\n"],
    ["bios-no-bootable-device", "No bootable device.  Retrying in 1 seconds.\n"],
    ["bios-boot-failed", "Boot failed: Could not read from CDROM (code 0004)\n"],
    [
      "uefi-load-failed",
      'BdsDxe: failed to load Boot0001 "UEFI QEMU DVD-ROM QM00011 " from PciRoot(0x0): Not Found\r\n',
    ],
    ["uefi-no-boot-option", "BdsDxe: No bootable option or device was found.\r\n"],
  ])("spots %s", (id, text) => {
    expect(kinds(feed(new SerialScanner(), text))).toEqual([`failure:${id}`]);
  });

  it("spots the UEFI shell prompt although no newline follows it, once", () => {
    const s = new SerialScanner();
    expect(kinds(feed(s, "UEFI Interactive Shell v2.2\r\n", "\x1b[1m\x1b[33mShell> \x1b[0m"))).toEqual([
      "failure:uefi-shell",
    ]);
    expect(feed(s, " ")).toEqual([]);
  });

  it("does not take boot chatter for failures", () => {
    const ok =
      'SeaBIOS (version 1.16.2)\r\nBooting from DVD/CD...\r\nWelcome to GRUB!\r\nBdsDxe: loading Boot0001 "UEFI QEMU DVD-ROM"\r\n[ 0.0] Linux version 6.1.0-28-amd64\n';
    expect(feed(new SerialScanner(), ok)).toEqual([]);
  });

  it("hands over a last line without newline when the stream ends", () => {
    const s = new SerialScanner();
    expect(feed(s, 'BOOTMEDIA {"event":"done"}')).toEqual([]);
    expect(kinds(s.end())).toEqual(["marker:done"]);
  });

  it("reports a serial pass pattern once, in a whole line or in a long unfinished one", () => {
    const s = new SerialScanner(/Select a language/);
    expect(feed(s, "Loading Linux ...\r\n")).toEqual([]);
    // A full-screen installer on the serial console draws with cursor moves and no newline.
    expect(kinds(feed(s, "\x1b[1;1H\x1b[37;44m  [!!] Select a ", "language\x1b[K\x1b[3;5HChoose"))).toEqual([
      "pass:[!!] Select a languageChoose",
    ]);
    expect(feed(s, " Select a language again\n")).toEqual([]);
    const t = new SerialScanner(/done here/);
    expect(kinds([...feed(t, "not yet\n", "done here"), ...t.end()])).toEqual(["pass:done here"]);
  });

  it("strips the installer's line-drawing charset switches from the matched text", () => {
    const s = new SerialScanner(/Select a language/);
    expect(kinds(feed(s, "\x1b(0lqqqqu\x1b(B [!!] Select a language \x1b(0tqqqk\x1b(B\n"))).toEqual([
      "pass:lqqqqu [!!] Select a language tqqqk",
    ]);
  });

  it("never reports a pass without a pattern", () => {
    expect(feed(new SerialScanner(), "Select a language\n")).toEqual([]);
  });

  it("has unique signature ids", () => {
    expect(new Set(FAILURE_SIGNATURES.map((s) => s.id)).size).toBe(FAILURE_SIGNATURES.length);
  });
});
