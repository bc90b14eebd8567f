// npm's install step: builds the optional native copy helper (native/copy-range). A build
// failure never fails the install: bootmedia then copies through user space (slower).
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";

if (process.env.BOOTMEDIA_NO_NATIVE) process.exit(0);
// Node's own headers when the running node ships them (Debian's nodejs: /usr/include/node):
// node-gyp otherwise downloads them, which fails offline (seen on the bench machine, where
// the helper then silently went missing and the writers fell back to user space).
const prefix = dirname(dirname(process.execPath));
const local = existsSync(join(prefix, "include/node/node_api.h")) ? [`--nodedir=${prefix}`] : [];
const build = (extra) =>
  spawnSync("node-gyp", ["rebuild", "--directory=native/copy-range", ...extra], {
    stdio: ["ignore", "ignore", "pipe"],
    shell: false,
  });
let r = build(local);
if (r.status !== 0 && local.length > 0) r = build([]);
if (r.status === 0 && existsSync("native/copy-range/build/Release/copy_range.node")) {
  console.log("bootmedia: native copy helper built (in-kernel copies for ISO payloads)");
} else {
  console.log(
    "bootmedia: native copy helper not built (no compiler or Node headers?); writers copy through user space",
  );
}
