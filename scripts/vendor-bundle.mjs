/**
 * After tsc: zod, yaml and tapable, which every spec-reading command loads, are bundled into
 * one file each (dist/vendor/<name>.js) and the compiled files import those instead of the
 * packages. Node 20's ESM loader pays per file resolved: zod is ~100 files, yaml ~70 and
 * tapable 16, loaded on every `plan` and `build`; one file each saves ~0.15 s of CPU per start
 * (npm run bench:startup).
 * The packages stay dependencies (their types are what dist/*.d.ts name). A bundle is rebuilt
 * only when its package version changes; the rewrite is idempotent, so incremental builds
 * (which re-emit only changed files) stay correct. The step fails if a bare import remains.
 * Run by `npm run build` (and the tests' global setup) after `tsc -p tsconfig.build.json`.
 */
import { readFileSync, writeFileSync, readdirSync, existsSync, mkdirSync } from "node:fs";
import { dirname, join, relative, sep } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../", import.meta.url));
const DIST = join(ROOT, "dist");
const VENDOR = join(DIST, "vendor");
const PACKAGES = ["zod", "yaml", "tapable"];

async function bundle(name) {
  const version = JSON.parse(readFileSync(join(ROOT, "node_modules", name, "package.json"), "utf8")).version;
  const out = join(VENDOR, `${name}.js`);
  const stamp = `/* ${name} ${version}, bundled by scripts/vendor-bundle.mjs */`;
  if (existsSync(out) && readFileSync(out, "utf8").startsWith(stamp)) return;
  const { build } = await import("esbuild");
  // Named re-exports, not `export *`: yaml is CommonJS, whose names esbuild cannot see statically.
  const names = Object.keys(await import(name)).filter((n) => n !== "default" && /^[A-Za-z_$][\w$]*$/.test(n));
  mkdirSync(VENDOR, { recursive: true });
  await build({
    stdin: { contents: `export { ${names.join(", ")} } from "${name}";`, resolveDir: ROOT, loader: "js" },
    bundle: true,
    format: "esm",
    platform: "node",
    target: "node20",
    outfile: out,
    // yaml (CommonJS) requires node:process; an ESM bundle has no `require` of its own.
    banner: {
      js: `${stamp}\nimport { createRequire as __bmCreateRequire } from "node:module";\nconst require = __bmCreateRequire(import.meta.url);`,
    },
    legalComments: "inline",
    logLevel: "warning",
  });
}

function* jsFiles(dir) {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) {
      if (p !== VENDOR) yield* jsFiles(p);
    } else if (e.name.endsWith(".js")) yield p;
  }
}

const SPECIFIER = new RegExp(`(\\bfrom\\s*|\\bimport\\s*\\(\\s*|\\bimport\\s+)(["'])(${PACKAGES.join("|")})\\2`, "g");

const BARE = new RegExp(
  `\\bfrom\\s*["'](${PACKAGES.join("|")})["']|import\\s*\\(\\s*["'](${PACKAGES.join("|")})["']\\s*\\)`,
);

for (const name of PACKAGES) await bundle(name);
const left = [];
for (const file of jsFiles(DIST)) {
  const text = readFileSync(file, "utf8");
  const rewritten = text.replace(SPECIFIER, (_, lead, quote, name) => {
    let rel = relative(dirname(file), join(VENDOR, `${name}.js`))
      .split(sep)
      .join("/");
    if (!rel.startsWith(".")) rel = `./${rel}`;
    return `${lead}${quote}${rel}${quote}`;
  });
  if (rewritten !== text) writeFileSync(file, rewritten);
  if (BARE.test(rewritten)) left.push(relative(ROOT, file));
}
if (left.length) {
  console.error(`vendor-bundle: bare imports of ${PACKAGES.join(", ")} left in ${left.join(", ")}`);
  process.exit(1);
}
