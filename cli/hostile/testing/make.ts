/** Hostile things to put in a scratch folder: device nodes, FIFOs, sockets, links, big files. */
import { execFileSync } from "node:child_process";
import { mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";

/** A device node made with mknod in the scratch folder (never a real disk's node). */
export function mknod(path: string, kind: "b" | "c", major: number, minor: number): string {
  mkdirSync(dirname(path), { recursive: true });
  execFileSync("mknod", [path, kind, String(major), String(minor)]);
  return path;
}

export function mkfifo(path: string): string {
  mkdirSync(dirname(path), { recursive: true });
  execFileSync("mkfifo", [path]);
  return path;
}

/** A Unix socket file left behind (bound, never listened on). */
export function mksocket(path: string): string {
  execFileSync("python3", ["-c", "import socket,sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])", path]);
  return path;
}

export function link(target: string, path: string): string {
  mkdirSync(dirname(path), { recursive: true });
  symlinkSync(target, path);
  return path;
}

export function file(path: string, content: string | Buffer): string {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, content);
  return path;
}

/** A plugin module in the scratch folder whose apply body is `body` (build is `b`). */
export function plugin(dir: string, name: string, body: string): string {
  return file(join(dir, `${name}.mjs`), `export default class P { name = "${name}"; apply(b) { ${body} } }\n`);
}

/** A YAML "billion laughs": 9 levels of 10 aliases each. */
export function aliasBomb(): string {
  const lines = ["name: bomb", "a0: &a0 [x, x, x, x, x, x, x, x, x, x]"];
  for (let i = 1; i < 9; i++)
    lines.push(
      `a${i}: &a${i} [${Array(10)
        .fill(`*a${i - 1}`)
        .join(", ")}]`,
    );
  lines.push("bootImage: *a8");
  return lines.join("\n") + "\n";
}
