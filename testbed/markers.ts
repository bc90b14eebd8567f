/**
 * Reads the serial console as it streams: splits lines, strips terminal escapes, pulls out
 * `BOOTMEDIA {...}` markers and spots known failure signatures, so a case ends the moment
 * its outcome is known rather than at its timeout.
 */
import { findPass } from "./pass-pattern.ts";

const MARKER_PREFIX = "BOOTMEDIA ";

export interface Marker {
  event: string;
  [key: string]: unknown;
}

export interface FailureSignature {
  id: string;
  /** The failure reason a match stands for; expected-failure cases compare against it. */
  reason: string;
  pattern: RegExp;
  /** Prompts end without a newline, so they are also looked for in the unfinished line. */
  prompt?: boolean;
}

/** Output that means the boot has failed, whatever follows. */
export const FAILURE_SIGNATURES: readonly FailureSignature[] = [
  // Secure Boot refusals come first: they are what a refused chain prints (core/secure-boot.ts).
  // The firmware refusing an unsigned or untrusted loader (OVMF's BDS prints the EFI status).
  {
    id: "uefi-access-denied",
    reason: "secure-boot-refused",
    pattern: /BdsDxe: failed to (load|start) .*: (Access Denied|Security Violation)/,
  },
  // shim refusing a loader or kernel its keys do not cover.
  {
    id: "shim-verification-failed",
    reason: "secure-boot-refused",
    pattern:
      /Verification failed: \(0x1A\) Security Violation|Failed to load image: Security Violation|start_image\(\) returned Security Violation/,
  },
  // GRUB under shim lockdown refusing a kernel.
  {
    id: "grub-secure-boot-refused",
    reason: "secure-boot-refused",
    pattern: /^error: (bad shim signature|prohibited by secure boot policy)/,
  },
  { id: "grub-error", reason: "grub-error", pattern: /^error: / },
  { id: "kernel-panic", reason: "kernel-panic", pattern: /Kernel panic - not syncing/ },
  // GRUB started an x64 kernel on a 32-bit CPU instead of refusing with a marker.
  { id: "kernel-needs-x64", reason: "kernel-needs-x64", pattern: /requires an x86-64 CPU/ },
  { id: "bios-no-bootable-device", reason: "no-boot-file", pattern: /No bootable device/ },
  { id: "bios-boot-failed", reason: "no-boot-file", pattern: /Boot failed/ },
  { id: "uefi-load-failed", reason: "no-boot-file", pattern: /BdsDxe: failed to load/ },
  { id: "uefi-no-boot-option", reason: "no-boot-file", pattern: /BdsDxe: No bootable option/ },
  { id: "uefi-shell", reason: "no-boot-file", pattern: /^Shell> /, prompt: true },
];

export type SerialEvent =
  | { kind: "marker"; marker: Marker; line: string }
  | { kind: "failure"; signature: FailureSignature; line: string }
  /** The media's serial pass pattern (pass-pattern.ts) matched; `line` is the text it matched in. */
  | { kind: "pass"; line: string };

/** How much of an unfinished line a pass pattern is tested against (full-screen programs send few newlines). */
const PARTIAL_PASS_WINDOW = 8192;

// CSI sequences (colours, cursor moves), character-set designations (ESC ( 0, the line
// drawing a full-screen installer uses), two-byte escapes (ESC c) and mode switches (ESC [=3h).
const ANSI_ESCAPE = /\x1b\[[0-9;?=]*[A-Za-z]|\x1b[()*+][0-9A-Za-z]|\x1b[@-Z\\-_]/g;

/** Removes terminal control sequences and carriage returns, so patterns see plain text. */
export function stripTerminalCodes(text: string): string {
  return text.replace(ANSI_ESCAPE, "").replace(/\r/g, "");
}

/**
 * Every marker in one line. Firmware consoles may print a line twice on one row
 * (UEFI console + serial redirection), or cut one short; only whole JSON objects count.
 */
export function parseMarkers(line: string): Marker[] {
  const markers: Marker[] = [];
  let at = line.indexOf(MARKER_PREFIX);
  while (at >= 0) {
    const start = at + MARKER_PREFIX.length;
    const end = findObjectEnd(line, start);
    if (end > start) {
      try {
        const value: unknown = JSON.parse(line.slice(start, end));
        if (isMarker(value)) markers.push(value);
      } catch {
        // A cut-off or interleaved object is noise, not a marker.
      }
    }
    at = line.indexOf(MARKER_PREFIX, Math.max(end, start));
  }
  return markers;
}

function isMarker(value: unknown): value is Marker {
  return typeof value === "object" && value !== null && typeof (value as Marker).event === "string";
}

/** Index just past the `}` closing the object opening at `start`, or -1. */
function findObjectEnd(text: string, start: number): number {
  if (text[start] !== "{") return -1;
  let depth = 0;
  let inString = false;
  for (let i = start; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === "\\") i++;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === "{") depth++;
    else if (c === "}" && --depth === 0) return i + 1;
  }
  return -1;
}

/** First failure signature in a line, if any. */
function matchFailure(line: string, promptsOnly = false): FailureSignature | undefined {
  return FAILURE_SIGNATURES.find((s) => (!promptsOnly || s.prompt) && s.pattern.test(line));
}

/** Feeds serial chunks in, yields events per complete line (and prompts in the partial one). */
export class SerialScanner {
  private pending = "";
  private promptSeen = false;
  private passSeen = false;
  private readonly decoder = new TextDecoder("utf-8", { fatal: false });

  /** `pass`: a serial pass pattern, tested on each line and on the unfinished one (a pass event once). */
  constructor(private readonly pass?: RegExp) {}

  push(chunk: Uint8Array): SerialEvent[] {
    this.pending += this.decoder.decode(chunk, { stream: true });
    const events: SerialEvent[] = [];
    let nl = this.pending.indexOf("\n");
    while (nl >= 0) {
      const line = stripTerminalCodes(this.pending.slice(0, nl));
      events.push(...scanLine(line), ...this.scanPass(line));
      this.pending = this.pending.slice(nl + 1);
      this.promptSeen = false;
      nl = this.pending.indexOf("\n");
    }
    if (!this.promptSeen) {
      const partial = stripTerminalCodes(this.pending);
      const prompt = matchFailure(partial, true);
      if (prompt) {
        this.promptSeen = true;
        events.push({ kind: "failure", signature: prompt, line: partial });
      }
    }
    // A full-screen program (an installer on a serial console) draws with cursor moves and
    // may not end a line for a long time, so the pattern also sees the unfinished one.
    if (this.pass && !this.passSeen && this.pending)
      events.push(...this.scanPass(stripTerminalCodes(this.pending.slice(-PARTIAL_PASS_WINDOW))));
    return events;
  }

  private scanPass(text: string): SerialEvent[] {
    if (!this.pass || this.passSeen) return [];
    const found = findPass(this.pass, text);
    if (found === undefined) return [];
    this.passSeen = true;
    return [{ kind: "pass", line: found }];
  }

  /** Whatever is left when the stream ends. */
  end(): SerialEvent[] {
    const rest = stripTerminalCodes(this.pending + this.decoder.decode());
    this.pending = "";
    const events: SerialEvent[] = this.promptSeen
      ? parseMarkers(rest).map((marker) => ({ kind: "marker", marker, line: rest }))
      : scanLine(rest);
    return [...events, ...this.scanPass(rest)];
  }
}

function scanLine(line: string): SerialEvent[] {
  const events: SerialEvent[] = parseMarkers(line).map((marker) => ({ kind: "marker" as const, marker, line }));
  const failure = matchFailure(line);
  if (failure) events.push({ kind: "failure", signature: failure, line });
  return events;
}
