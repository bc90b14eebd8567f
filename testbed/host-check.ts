/**
 * What the testbed needs on the host, checked before anything is built or booted: each
 * profile's QEMU and firmware files, and busybox for cases with management points (QEMU's
 * guestfwd runs `busybox nc` per guest connection; without it every connection dies unseen
 * and the case ends no-mp-reachable at its timeout). The doctor's table names each package.
 */
import { BootmediaError } from "../base/errors.ts";
import { findOnHost, requirementOf, type HostLookup, type HostTool } from "../core/doctor.ts";
import { GUESTFWD_HELPER } from "./mp/network.ts";
import { PROFILES, type MachineProfile, type ProfileId } from "./profiles.ts";
import "./codes.ts";

interface HostNeeds {
  /** Programs QEMU is, or runs. */
  programs: HostTool[];
  /** Firmware files QEMU loads, and the certificate a Secure Boot profile's db holds. */
  firmware: HostTool[];
}

/** The host programs and files the cases of these profiles use; `withMps`: some case has management points. */
export function hostNeedsOf(profiles: Iterable<ProfileId>, withMps: boolean): HostNeeds {
  const programs = new Set<HostTool>(withMps ? [GUESTFWD_HELPER] : []);
  const firmware = new Set<HostTool>();
  for (const id of profiles) {
    const p: MachineProfile = PROFILES[id];
    programs.add(p.binary);
    if (p.flash) [p.flash.code, p.flash.vars].forEach((f) => firmware.add(f));
    if (p.secureBoot?.trust === "certificate") firmware.add(p.secureBoot.certificate);
  }
  return { programs: [...programs], firmware: [...firmware] };
}

/** Throws BM5001 (a program) or BM5002 (firmware) naming what is missing and its Debian package. */
export function checkHostNeeds(needs: HostNeeds, lookup: HostLookup = findOnHost): void {
  for (const [code, tools] of [
    ["BM5001", needs.programs],
    ["BM5002", needs.firmware],
  ] as const) {
    const missing = tools.filter((t) => lookup(t) === undefined).map((t) => ({ tool: t, row: requirementOf(t) }));
    if (missing.length === 0) continue;
    const packages = [...new Set(missing.map((m) => m.row.debianPackage))];
    const what = missing.map((m) => `${m.tool} (Debian package ${m.row.debianPackage}; ${m.row.neededFor})`).join(", ");
    throw new BootmediaError(code, `missing on this machine: ${what}`, {
      where: missing[0]!.tool,
      hint: `Install ${packages.join(" ")}: \`bootmedia doctor --install --for testbed\` does it (as root or through sudo).`,
    });
  }
}
