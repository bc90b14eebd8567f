/** The stand-alone built-in: `mediaType: standalone` puts the task sequence and its content on the media. */
import { definePlugin } from "../../core/plugin.ts";
import { STANDALONE_CODES } from "./codes.ts";
import { ALLOW_UNPROTECTED } from "./spec.ts";

/** Stand-alone media read back: inspect shows them, inspect --check rehashes their joined pieces. */
export {
  checkStandalone,
  formatStandalone,
  readStandalone,
  type StandaloneCheck,
  type StandaloneReport,
} from "./read-media.ts";

/** CD/DVD sets read back: a data disc says what it is; any disc opens the whole set (BM6111, BM6112). */
export { formatDataDisc, openWholeSet, readDataDisc, setDiscPaths } from "./read-set.ts";

export { isStandaloneFile, plannedStandalone, TASK_SEQUENCE_PATH as STANDALONE_PROGRAM } from "./placement.ts";

const plugin = definePlugin({
  name: "StandalonePlugin",
  describe:
    "Stand-alone media: the task sequence, every package its steps use (encrypted with the media password) and the variables on the media",
  sections: [ALLOW_UNPROTECTED],
  codes: STANDALONE_CODES,
  enabled: (spec) => spec.mediaType === "standalone",
  create: async () => new (await import("./standalone-plugin.ts")).StandalonePlugin(),
});

// A named constant, not `export default definePlugin(...)`: tsc leaves `.ts` specifiers of
// dynamic imports inside an export-default expression unrewritten.
export default plugin;
