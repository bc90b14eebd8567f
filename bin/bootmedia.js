#!/usr/bin/env node
// Entry point: runs the TypeScript sources through tsx's loader (no build step to go stale).
import { register } from "tsx/esm/api";

register();
const { main, installSignalHandlers } = await import("../core/cli/main.ts");
installSignalHandlers();
process.exitCode = await main(process.argv);
