/** Codes of task-sequence steps files (BM24xx): read at `library add`/`verify` and by the management point. */
import { defineCodes } from "../../base/errors.ts";

defineCodes("task-sequence", {
  BM2401: {
    title: "task-sequence steps invalid",
    hint: "Fix the step the message names (its path, e.g. steps[2].steps[0], and field); docs/task-sequences.md lists every step type and field.",
  },
  BM2402: {
    title: "task-sequence steps file unreadable",
    hint: "A task-sequence package keeps its steps in steps.yaml (YAML, at most 1 MiB) at the top of its folder; check it exists and is readable.",
  },
  BM2403: {
    title: "task sequence too large",
    hint: "A task sequence holds at most 1000 steps nested at most 16 groups deep; split it into several task sequences.",
  },
});
