/**
 * Where the boot agent's files are: the boot environment's side of the boot image (agent/),
 * which the boot-image builder (backends/boot-image-builder/) puts into the initramfs.
 * Located from the package root: tsc does not copy shell scripts into dist/ (package.json
 * `files` ships them).
 */
import { packagePath } from "../../base/package-root.ts";

export const AGENT_INIT = packagePath("plugins/boot-image/agent/init");
/** Files the agent sources, installed as /lib/bootmedia/<name>. */
export const AGENT_LIBS = [
  "screen.sh",
  "unlock.sh",
  "settings.sh",
  "interact.sh",
  "mp.sh",
  "standalone.sh",
  "ts-report.sh",
  "ts-disk.sh",
  "ts-image.sh",
  "ts.sh",
].map((f) => packagePath("plugins/boot-image/agent/lib", f));
/** The management-point client (docs/mp-protocol.md), installed as /bin/bootmedia-mp; mp.sh runs it. */
export const MP_AGENT_SCRIPT = packagePath("plugins/boot-image/agent/lib/bootmedia-mp.sh");
/** The secrets plugin's boot-side reference script, installed as /bin/bootmedia-unlock. */
export const UNLOCK_SCRIPT = packagePath("plugins/secrets/agent/bootmedia-unlock.sh");
