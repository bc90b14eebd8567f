/** `bootmedia dp serve <dir>`: serve a content library folder over HTTP(S) for labs and tests. */
import { readFile, stat } from "node:fs/promises";
import { join, resolve } from "node:path";
import type { CAC } from "cac";
import { BootmediaError } from "../../base/errors.ts";
import { serveLibrary } from "../../plugins/distribution-point/server.ts";
import { printJson } from "./render.ts";
import "../../core/codes.ts";
import "../../plugins/distribution-point/codes.ts";

type Run = (fn: () => Promise<number>) => void;

interface DpFlags {
  port?: number | string;
  host?: string;
  tlsCert?: string;
  tlsKey?: string;
  json?: boolean;
  quiet?: boolean;
}

const serveError = (message: string) => new BootmediaError("BM2107", message);

export function registerDpCommands(cli: CAC, run: Run): void {
  cli
    .command(
      "dp <action> [dir]",
      "Distribution point: `dp serve <dir>` serves a content library folder over HTTP(S) (Ctrl-C stops)",
    )
    .option("--port <n>", "Port (0: any free port)", { default: 8080 })
    .option("--host <addr>", "Address to listen on", { default: "127.0.0.1" })
    .option("--tls-cert <file>", "Serve HTTPS with this certificate (PEM) …")
    .option("--tls-key <file>", "… and its private key (PEM)")
    .action((action: string, dir: string | undefined, flags: DpFlags) =>
      run(async () => {
        if (action !== "serve" || !dir)
          throw new BootmediaError(
            "BM1009",
            `usage: bootmedia dp serve <dir> [--port N] [--host ADDR] [--tls-cert F --tls-key F]`,
          );
        const root = resolve(dir);
        if (
          !(await stat(join(root, "packages")).then(
            (s) => s.isDirectory(),
            () => false,
          ))
        )
          throw serveError(`${root} holds no "packages" folder`);
        if (Boolean(flags.tlsCert) !== Boolean(flags.tlsKey))
          throw new BootmediaError("BM1009", "--tls-cert and --tls-key go together");
        const read = (f: string) =>
          readFile(resolve(f)).catch((e: NodeJS.ErrnoException) =>
            Promise.reject(serveError(`cannot read ${f} (${e.code})`)),
          );
        const tls = flags.tlsCert ? { cert: await read(flags.tlsCert), key: await read(flags.tlsKey!) } : undefined;
        const log = flags.quiet
          ? undefined
          : (line: string) => process.stderr.write(`${new Date().toISOString()} ${line}\n`);
        const server = await serveLibrary({ root, host: flags.host, port: Number(flags.port ?? 8080), tls, log }).catch(
          (e: NodeJS.ErrnoException) => {
            throw serveError(`cannot listen on ${flags.host}:${flags.port}: ${e.code ?? e.message}`);
          },
        );
        if (flags.json) printJson({ ok: true, url: server.url, root });
        else process.stdout.write(`serving ${root} at ${server.url} (Ctrl-C stops)\n`);
        // Ctrl-C or SIGTERM is how a server is stopped (as `mp serve`), not an interrupted
        // build: close and exit 0. A second signal ends it at once.
        return new Promise<number>((done) => {
          for (const sig of ["SIGINT", "SIGTERM"] as const) {
            process.removeAllListeners(sig);
            process.once(sig, () => {
              log?.(`dp stopped (${sig})`);
              void server.close().then(() => done(0));
            });
          }
        });
      }),
    );
}
export { registerDpCommands as register };
