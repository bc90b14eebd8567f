/**
 * A deploy case against an MP the user runs (`bootmedia mp serve --state-dir DIR`): the testbed
 * neither started it nor holds its state, so the installed OS's `deployed` is read from the
 * MP's journal (read-only, beside the running MP, as `mp status` does). CaseDeploy.deployedAt.
 */
import { MpState } from "../backends/mp/state.ts";
import { caseStatusEvents, type CaseStatusEvent } from "./mp-case.ts";

/**
 * Finds the `deployed` event of `deploymentId` from `mac` that the MP stored at `sinceSec` (its
 * clock) or later: an older deployment of the same computer in a kept state dir does not count.
 */
export function deployedInStateDir(
  stateDir: string,
  want: { deploymentId: string; mac: string; sinceSec: number },
): () => Promise<CaseStatusEvent | undefined> {
  const mac = want.mac.toLowerCase();
  return async () => {
    const state = await MpState.read(stateDir);
    const records = state
      .eventRecords()
      .filter(
        (r) =>
          r.event.state === "deployed" &&
          r.event.deploymentId === want.deploymentId &&
          r.event.mac.toLowerCase() === mac &&
          r.time >= want.sinceSec,
      );
    return caseStatusEvents(records)[0];
  };
}
