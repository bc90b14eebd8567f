/**
 * The plugin against a real static server: nginx from Debian's packages (`nginx-light`),
 * started on a free loopback port with a generated config (daemon off, files in a temp dir).
 */
import { existsSync } from "node:fs";
import { mkdtemp, rm, writeFile, mkdir } from "node:fs/promises";
import { tmpdir, userInfo } from "node:os";
import { join } from "node:path";
import { execa, type ResultPromise } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hashTree } from "../../testing/tree-hash.ts";
import { BootmediaError } from "../../base/errors.ts";
import { buildFrom } from "./testing/harness.ts";
import { DpClient } from "./http-client.ts";
import { readRemotePackage } from "./distribution-point-plugin.ts";
import { makeLibrary, patternBytes } from "./testing/library.ts";
import { freeLoopbackPort } from "../../base/free-port.ts";

const NGINX = ["/usr/sbin/nginx", "/usr/bin/nginx"].find((p) => existsSync(p));

describe("distribution point served by nginx", () => {
  let tmp: string;
  let library: string;
  let url: string;
  let nginx: ResultPromise;

  beforeAll(async () => {
    if (!NGINX)
      throw new Error(
        "nginx is not installed (Debian package nginx-light; `npm test` installs it through `bootmedia doctor --install`)",
      );
    tmp = await mkdtemp(join(tmpdir(), "bm-dp-nginx-"));
    library = await makeLibrary(join(tmp, "library"), { "data/big.bin": patternBytes(2 * 1024 * 1024 + 7, "nginx") });
    const port = await freeLoopbackPort();
    const t = (d: string) => join(tmp, "nginx", d);
    await mkdir(t("tmp"), { recursive: true });
    await writeFile(
      t("nginx.conf"),
      `
user ${userInfo().username};
daemon off;
worker_processes 1;
pid ${t("nginx.pid")};
error_log ${t("error.log")} warn;
events { worker_connections 64; }
http {
  access_log ${t("access.log")};
  client_body_temp_path ${t("tmp")}; proxy_temp_path ${t("tmp")}; fastcgi_temp_path ${t("tmp")}; uwsgi_temp_path ${t("tmp")}; scgi_temp_path ${t("tmp")};
  types { application/json json; }
  default_type application/octet-stream;
  server {
    listen 127.0.0.1:${port};
    root ${library};
    autoindex off;
  }
}
`,
    );
    nginx = execa(NGINX!, ["-c", t("nginx.conf"), "-p", t("")], { reject: false });
    url = `http://127.0.0.1:${port}/`;
    for (let i = 0; i < 50; i++) {
      if (
        await fetch(url + "packages/BM100001/package.json").then(
          (r) => r.ok,
          () => false,
        )
      )
        return;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(
      `nginx did not start: ${String((await Promise.race([nginx, new Promise((r) => setTimeout(r, 100))])) ?? "")}`,
    );
  }, 15_000);

  afterAll(async () => {
    nginx?.kill("SIGTERM");
    await nginx;
    await rm(tmp, { recursive: true, force: true });
  });

  it("builds the same media from nginx as from the folder it serves", async () => {
    const local = await buildFrom(library, { out: join(tmp, "local"), cache: join(tmp, "c1"), dir: tmp });
    const remote = await buildFrom(url, { out: join(tmp, "remote"), cache: join(tmp, "c2"), dir: tmp });
    expect(local.error).toBeUndefined();
    expect(remote.error).toBeUndefined();
    expect(await hashTree(join(tmp, "remote"))).toEqual(await hashTree(join(tmp, "local")));
    expect(remote.result!.fetch.bytesFetched).toBeGreaterThan(2 * 1024 * 1024);
  });

  it("reports a package nginx does not have as BM2002", async () => {
    const client = new DpClient([url]);
    const e = await readRemotePackage(client, "BM999999").catch((x: unknown) => x);
    client.close();
    expect((e as BootmediaError).code).toBe("BM2002");
    expect((e as Error).message).toContain("package BM999999 is not on the distribution point");
  });
});
