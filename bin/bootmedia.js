#!/usr/bin/env node
// Entry point: runs the compiled CLI (dist/, built by `npm run build`, which `npm ci` runs).
import { setFlagsFromString } from "node:v8";

// Writers stream gigabytes through small reused buffers: a young generation that never
// grows past its initial size keeps peak RSS flat (measured: FAT bench 110 → ~90 MiB).
setFlagsFromString("--semi-space-growth-factor=1");
// A reader that goes away (`bootmedia plan x | head -1`) closes the pipe: what is left to
// print is dropped and the command still finishes, so a build is never cut off half-written.
for (const stream of [process.stdout, process.stderr]) {
  stream.on("error", (e) => {
    if (e.code !== "EPIPE") throw e;
  });
}
const { main, installSignalHandlers } = await import("../dist/cli/main.js");
installSignalHandlers();
process.exitCode = await main(process.argv);
// The command is over. A plugin may have left a live timer or socket behind (a hook stuck
// on setInterval ends as BM4005, but its interval would keep the process alive forever):
// if anything still holds the event loop a moment later, end the process. Unref'd, so a
// process with nothing left exits at once, as before.
setTimeout(() => process.exit(), 2000).unref();
