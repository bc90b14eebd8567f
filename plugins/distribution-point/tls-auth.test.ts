import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BootmediaError } from "../../base/errors.ts";
import { buildFrom } from "./testing/harness.ts";
import { serveLibrary, type Intercept, type LibraryServer } from "./server.ts";
import { makeLibrary } from "./testing/library.ts";

const run = promisify(execFile);
const FAST = { retry: { tries: 2, backoffMs: 10, idleTimeoutMs: 2000 } };
let tmp: string;
let library: string;
let n = 0;
const servers: LibraryServer[] = [];
const fresh = () => ({ out: join(tmp, `out${++n}`), cache: join(tmp, `cache${n}`), dir: tmp, dp: FAST });

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), "bm-dp-tls-"));
  library = await makeLibrary(join(tmp, "library"));
  // A self-signed certificate for 127.0.0.1 (openssl is the independent issuer).
  await run("openssl", [
    "req",
    "-x509",
    "-newkey",
    "ec",
    "-pkeyopt",
    "ec_paramgen_curve:P-256",
    "-nodes",
    "-days",
    "2",
    "-subj",
    "/CN=bootmedia test DP",
    "-addext",
    "subjectAltName=IP:127.0.0.1",
    "-keyout",
    join(tmp, "dp.key"),
    "-out",
    join(tmp, "dp.pem"),
  ]);
});

afterAll(async () => {
  await Promise.all(servers.map((s) => s.close()));
  await rm(tmp, { recursive: true, force: true });
});

async function https(intercept?: Intercept) {
  const server = await serveLibrary({
    root: library,
    intercept,
    tls: { cert: await readFile(join(tmp, "dp.pem")), key: await readFile(join(tmp, "dp.key")) },
  });
  servers.push(server);
  return server;
}

describe("distribution points over HTTPS and with credentials", () => {
  it("names the host and suggests --ca-file when the certificate is not trusted", async () => {
    const server = await https();
    const b = await buildFrom(server.url, fresh());
    expect((b.error as BootmediaError).code).toBe("BM2103");
    expect((b.error as Error).message).toContain(new URL(server.url).host);
    expect((b.error as Error).message).toContain("--ca-file");
  });

  it("builds over HTTPS with the CA given as caFile", async () => {
    const server = await https();
    const b = await buildFrom({ urls: server.url, caFile: "dp.pem" }, fresh());
    expect(b.error).toBeUndefined();
  });

  it("sends a bearer token from an env reference and keeps it out of the log", async () => {
    const token = "tok-7f3a9c-secret";
    process.env.BM_TEST_DP_TOKEN = token;
    const seen: string[] = [];
    const server = await https((req) => {
      seen.push(String(req.headers.authorization));
      return req.headers.authorization === `Bearer ${token}` ? undefined : { status: 401 };
    });
    const ok = await buildFrom(
      { urls: [server.url], caFile: "dp.pem", auth: { bearer: { env: "BM_TEST_DP_TOKEN" } } },
      fresh(),
    );
    expect(ok.error).toBeUndefined();
    expect(seen.every((h) => h === `Bearer ${token}`)).toBe(true);
    expect(ok.log).not.toContain(token);
    const denied = await buildFrom({ urls: [server.url], caFile: "dp.pem" }, fresh());
    expect((denied.error as BootmediaError).code).toBe("BM2102");
  });

  it("sends basic credentials from a file reference", async () => {
    await run("sh", ["-c", `printf 'pa:ss w0rd\\n' > ${join(tmp, "dp-password")}`]);
    const expected = `Basic ${Buffer.from("reader:pa:ss w0rd").toString("base64")}`;
    const server = await https((req) => (req.headers.authorization === expected ? undefined : { status: 403 }));
    const b = await buildFrom(
      { urls: server.url, caFile: "dp.pem", auth: { basic: { user: "reader", password: { file: "dp-password" } } } },
      fresh(),
    );
    expect(b.error).toBeUndefined();
    expect(b.log).not.toContain("pa:ss w0rd");
  });

  it("refuses credentials inside the URL (they would be logged)", async () => {
    const b = await buildFrom("http://user:pw@127.0.0.1:9/lib", fresh());
    expect((b.error as BootmediaError).code).toBe("BM2105");
  });
});
