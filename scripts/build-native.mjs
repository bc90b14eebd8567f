// npm's install step: builds the optional native copy helper (native/copy-range). A build
// failure never fails the install: bootmedia then copies through user space (slower).
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";

if (process.env.BOOTMEDIA_NO_NATIVE) process.exit(0);
const r = spawnSync("node-gyp", ["rebuild", "--directory=native/copy-range"], { stdio: ["ignore", "ignore", "pipe"], shell: false });
if (r.status === 0 && existsSync("native/copy-range/build/Release/copy_range.node")) {
  console.log("bootmedia: native copy helper built (in-kernel copies for ISO payloads)");
} else {
  console.log("bootmedia: native copy helper not built (no compiler or Node headers?); writers copy through user space");
}
