/** Secrets where names belong, secret files that are not files, credentials in URLs. */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { runHostile, type HostileCase } from "./testing/hostile-case.ts";
import { file, mkfifo } from "./testing/make.ts";

const PW = "Corr3ct-Horse-Battery!";
const build = (spec: string, ...rest: string[]) => ["build", spec, "--quiet", ...rest];

const CASES: HostileCase[] = [
  {
    name: "--password env: given the password itself",
    setup: (fx) => build(fx.sample, "--password", `env:${PW}`),
    exit: 1,
    code: "BM1006",
    secrets: [PW, "Corr3ct"],
  },
  {
    name: "--password env: with a space in it",
    setup: (fx) => build(fx.sample, "--password", "env:two words here"),
    exit: 1,
    code: "BM1006",
    secrets: ["two words here"],
  },
  {
    name: "--password env: starting with a digit",
    setup: (fx) => build(fx.sample, "--password", "env:9Lives-and-more"),
    exit: 1,
    code: "BM1006",
    secrets: ["9Lives-and-more"],
  },
  {
    name: "--password env: given the password, --json",
    setup: (fx) => ["build", fx.sample, "--json", "--password", `env:${PW}`],
    exit: 1,
    code: "BM1006",
    secrets: [PW],
  },
  {
    name: "spec's security.password.env holds a password",
    setup: (fx) => {
      writeFileSync(
        fx.sample,
        readFileSync(fx.sample, "utf8").replace("security:\n", `security:\n  password: { env: "${PW}" }\n`),
      );
      return build(fx.sample);
    },
    exit: 1,
    code: "BM1006",
    secrets: [PW],
  },
  {
    name: "--secret-var NAME=env:<a value>",
    setup: (fx) => build(fx.sample, "--password", "env:BM_PW", "--secret-var", `DomainPass=env:${PW}`),
    env: () => ({ BM_PW: "Sup3r-Secret-Media-Pw" }),
    exit: 1,
    code: "BM1006",
    secrets: [PW, "Sup3r-Secret-Media-Pw"],
  },
  {
    name: "--password env: names an unset variable",
    setup: (fx) => build(fx.sample, "--password", "env:BM_HOSTILE_UNSET"),
    exit: 1,
    code: "BM1007",
  },
  {
    name: "--password file: is a FIFO",
    setup: (fx) => build(fx.sample, "--password", `file:${mkfifo(join(fx.dir, "pw"))}`),
    exit: 1,
    code: "BM1013",
  },
  {
    name: "--password file: is /dev/zero",
    setup: (fx) => build(fx.sample, "--password", "file:/dev/zero"),
    exit: 1,
    code: "BM1013",
  },
  {
    name: "--password file: is a folder",
    setup: (fx) => (mkdirSync(join(fx.dir, "pwdir")), build(fx.sample, "--password", `file:${join(fx.dir, "pwdir")}`)),
    exit: 1,
    code: "BM1013",
  },
  {
    name: "--password file: of 1 MiB",
    setup: (fx) => build(fx.sample, "--password", `file:${file(join(fx.dir, "pw"), Buffer.alloc(1 << 20, 0x41))}`),
    exit: 1,
    code: "BM1014",
  },
  {
    name: "--password file: missing",
    setup: (fx) => build(fx.sample, "--password", `file:${join(fx.dir, "nope")}`),
    exit: 1,
    code: "BM1007",
  },
  {
    name: "a distribution point URL with a token in its query (JSON)",
    setup: (fx) => ["build", fx.sample, "--json", "--content-library", "http://127.0.0.1:9/lib?token=s3cr3t-t0ken"],
    exit: 1,
    code: "BM2\\d{3}",
    secrets: ["s3cr3t-t0ken"],
    check: (r) => expect(r.stdout).toContain("?***"),
  },
  {
    name: "a distribution point URL with a token in its query (text)",
    setup: (fx) => build(fx.sample, "--content-library", "http://127.0.0.1:9/lib?token=s3cr3t-t0ken&x=1"),
    exit: 1,
    code: "BM2\\d{3}",
    secrets: ["s3cr3t-t0ken"],
  },
  {
    name: "a distribution point URL with user:password@",
    setup: (fx) => build(fx.sample, "--content-library", "http://alice:hunter2-pw@127.0.0.1:9/lib"),
    exit: 1,
    code: "BM2105",
    secrets: ["hunter2-pw"],
  },
];

describe("hostile secrets", () => {
  test.each(CASES)("$name", (c) => runHostile(c), 60_000);
});
