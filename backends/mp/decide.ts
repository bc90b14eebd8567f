/**
 * What one management point answers to one authenticated policy request, in SCCM's order:
 * dynamic media are first sent to the MP of the client's boundary; then the computer is
 * looked up (unknown computers need the media's permission); then its deployment.
 */
import { findBoundaryMp, findComputer, findDeployment, type Site } from "./site.ts";
import { encodeTaskSequence, flattenSteps } from "../../core/task-sequence/wire.ts";
import { UDA_VARIABLE, type MpAnswer, type PolicyAnswer, type PolicyRequest } from "./protocol.ts";
import type { TaskSequenceContent } from "./site-content.ts";

interface MpIdentity {
  /** This MP's name in the site database. */
  name: string;
  /** URL of another MP as the client must use it (the guest's view: http://10.0.2.101). */
  peerUrl: (name: string) => string | undefined;
}

export function decidePolicyAnswer(
  site: Site,
  mp: MpIdentity,
  req: PolicyRequest,
  content: ReadonlyMap<string, TaskSequenceContent> = new Map(),
): MpAnswer {
  if (req.mode === "dynamic") {
    const home = findBoundaryMp(site, req);
    const url = home !== undefined && home !== mp.name ? mp.peerUrl(home) : undefined;
    // A boundary MP that is not running has no URL: this MP serves the client itself, as SCCM falls back.
    if (url) return { result: "redirect", mp: url };
  }
  const computer = findComputer(site, req);
  if (!computer && !req.unknownComputers) return { result: "unknown-computer", mp: mp.name };
  const deployment = findDeployment(site, req.taskSequence, computer);
  if (!deployment) return { result: "no-deployment", mp: mp.name };
  return withTaskSequence(
    {
      result: "policy",
      mp: mp.name,
      deploymentId: deployment.id,
      taskSequence: deployment.taskSequence,
      computer: computer?.name ?? "Unknown",
      variables: { ...deployment.variables, [UDA_VARIABLE.name]: UDA_VARIABLE.value[req.uda] },
    },
    content.get(deployment.taskSequence),
  );
}

/**
 * The answer's task sequence: its steps in the engine's wire form (with the answer's variables
 * and the packages' files) and where each package can be fetched. A task sequence without
 * steps leaves the answer as it was before steps existed.
 */
function withTaskSequence(answer: PolicyAnswer, content: TaskSequenceContent | undefined): PolicyAnswer {
  if (!content) return answer;
  const wire = encodeTaskSequence({
    steps: content.steps,
    variables: answer.variables,
    packages: content.packages,
    images: content.images,
  });
  return {
    ...answer,
    stepCount: flattenSteps(content.steps).length,
    steps: Buffer.from(wire, "utf8").toString("base64"),
    contentLocations: Object.fromEntries(content.packages.map((p) => [p.id, p.locations])),
  };
}
