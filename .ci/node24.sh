#!/usr/bin/env bash
# The quick suite (no QEMU boots) on Node 24, the current LTS users run, beside the main run on
# the machine's Node 20. Node 24 comes from the npm registry's `node` package (a binary in a
# registry package), installed once into .cache/node24; vitest writes .ci/results-node24.json.
set -uo pipefail
cd "$(dirname "$0")/.."
dir=.cache/node24
if [ ! -x "$dir/node_modules/.bin/node" ]; then
  mkdir -p "$dir"
  npm install --no-save --no-audit --no-fund --prefix "$dir" node@24 >/dev/null 2>&1 || { echo "node 24: cannot install node@24 from the npm registry"; exit 1; }
fi
node24="$(cd "$dir/node_modules/.bin" && pwd)/node"
echo "node 24: $("$node24" --version), quick suite (vitest run --exclude '**/*.e2e.test.ts')"
PATH="$(dirname "$node24"):$PATH" CI=true BOOTMEDIA_RESULTS=.ci/results-node24.json \
  "$node24" node_modules/vitest/vitest.mjs run --exclude '**/*.e2e.test.ts'
