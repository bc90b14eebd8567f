/**
 * The report key in the policy request (deploy contract §3): the agent's client
 * (agent/lib/bootmedia-mp.sh) under busybox sh sends `reportKey` between `uda` and `timestamp`,
 * the base64 of the DER SubjectPublicKeyInfo of the key mp.sh drew. Oracle: openssl's own
 * public-key export of that key; a loopback HTTP server records the exact body.
 */
import { execFileSync, spawn } from "node:child_process";
import { createServer } from "node:http";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { AGENT_INIT, AGENT_LIBS, MP_AGENT_SCRIPT } from "../agent-files.ts";

const work = mkdtempSync(join(tmpdir(), "bm-report-key-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const agent = readFileSync(AGENT_INIT, "utf8");
const helpers = agent.slice(agent.indexOf("json_str()"), agent.indexOf("mount_basics()"));

describe("report key", () => {
  it("mp.sh draws a P-256 key (0600); the policy request carries its SPKI as reportKey after uda", async () => {
    const bodies: string[] = [];
    const server = createServer((req, res) => {
      let body = "";
      req.on("data", (c: Buffer) => (body += c.toString()));
      req.on("end", () => {
        bodies.push(body);
        const answer = '{"result":"no-deployment","mp":"MP1"}';
        res.writeHead(404, { "Content-Length": answer.length, Connection: "close" }).end(answer);
      });
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const port = (server.address() as { port: number }).port;
    const key = join(work, "report.key");
    const script = `${helpers}
${AGENT_LIBS.filter((f) => f.endsWith("/mp.sh"))
  .map((f) => `. '${f}'`)
  .join("\n")}
REPORT_KEY='${key}'
make_report_key
BM_REPORT_KEY='${key}' BM_MEDIA_ID=m BM_TASK_SEQUENCE=BM200010 BM_MP_MODE=site-based BM_MPS='http://127.0.0.1:${port}' \\
  BM_UNKNOWN_COMPUTERS=false BM_UDA=none BM_CLIENT_MAC=52:54:00:00:00:01 BM_CLIENT_UUID= BM_CLIENT_IP= sh '${MP_AGENT_SCRIPT}'
echo "exit $?"`;
    const out = await new Promise<string>((resolve) => {
      const p = spawn("busybox", ["sh", "-c", script]);
      let s = "";
      p.stdout.on("data", (c: Buffer) => (s += c.toString()));
      p.on("close", () => resolve(s));
    });
    server.close();
    expect(out).toContain("exit 4");
    expect(statSync(key).mode & 0o777).toBe(0o600);
    expect(execFileSync("openssl", ["pkey", "-in", key, "-noout", "-text"], { encoding: "utf8" })).toContain(
      "prime256v1",
    );
    const spki = execFileSync("openssl", ["pkey", "-in", key, "-pubout", "-outform", "DER"]).toString("base64");
    expect(bodies).toHaveLength(1);
    const body = JSON.parse(bodies[0]!) as Record<string, unknown>;
    expect(body.reportKey).toBe(spki);
    expect(Object.keys(body)).toEqual([
      "v",
      "mediaId",
      "taskSequence",
      "mode",
      "mac",
      "unknownComputers",
      "uda",
      "reportKey",
      "timestamp",
      "nonce",
    ]);
  });
});
