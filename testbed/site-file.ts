/**
 * `bootmedia testbed --site site.yaml`: the management-point simulation without
 * TypeScript. A site file holds the site database (mp/site.ts), the media (specs, built
 * first, or built media files) and the cases (machine, NIC, which MPs are up, the MPs'
 * clock, prompt answers). Each case's expected outcome is derived by expectMpOutcome from
 * the media's own media.json and the site — never written in the file. docs/testbed.md.
 */
import { availableParallelism } from "node:os";
import pLimit from "p-limit";
import { readFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { parseYamlData } from "../core/yaml-limits.ts";
import { z } from "zod";
import { BootmediaError } from "../base/errors.ts";
import { Redactor, resolveSecret } from "../core/secrets.ts";
import { openMedia } from "../plugins/media-manifest/open-media.ts";
import { builtinInspectors } from "../plugins/builtin.ts";
import { describeMedia, isSpecFile } from "./media-from-inputs.ts";
import { checkHostNeeds, hostNeedsOf } from "./host-check.ts";
import { expectMpOutcome, type ExpectedMpOutcome, type MpMediaSettings } from "./mp/expect.ts";
import { parseSite, SiteSchema, type Site } from "../backends/mp/site.ts";
import { resolveSite } from "../backends/mp/site-content.ts";
import { flattenSteps } from "../core/task-sequence/wire.ts";
import { startingVariables, type CaseTaskSequence } from "./ts-case.ts";
import { PROFILE_IDS, type ProfileId } from "./profiles.ts";
import type { CaseManagementPoints } from "./mp-case.ts";
import type { MediaUnderTest } from "./matrix.ts";
import type { ExpectedFailure } from "./verdict.ts";
import type { CaseResult } from "./runner.ts";
import { runTestbed, type TestbedOptions } from "./testbed.ts";
import { checkDiskBus, parseDiskSize } from "./deploy-disk.ts";
import { siteDistributionPoints } from "./deploy-dps.ts";
import type { CaseDeploy } from "./deploy-types.ts";

/** The guest every case boots: QEMU's default MAC for the first NIC and slirp's guest address. */
const SITE_GUEST = { mac: "52:54:00:12:34:56", ip: "10.0.2.15" } as const;
const DAY_MS = 86_400_000;

const pem = z.strictObject({ cert: z.string(), key: z.string(), ca: z.string() });

/**
 * A case's replacements: the site's own part schemas without their `[]` defaults, so a part
 * the case does not name stays absent and the file's is kept (siteOfCase).
 */
const CaseSiteSchema = z.strictObject({
  computers: SiteSchema.shape.computers.unwrap().optional(),
  boundaries: SiteSchema.shape.boundaries.unwrap().optional(),
  deployments: SiteSchema.shape.deployments.unwrap().optional(),
  taskSequences: SiteSchema.shape.taskSequences.unwrap().optional(),
});
export type CaseSite = z.output<typeof CaseSiteSchema>;
/** The parts of the site database a case may replace. */
export const CASE_SITE_PARTS = Object.keys(CaseSiteSchema.shape) as Array<keyof CaseSite>;
export const SiteFileSchema = z.strictObject({
  /**
   * The site database, as testbed/mp/README.md shows; `certificates` may also name a media (its
   * registration .cer). Optional when every case boots stand-alone media (no MP at all).
   */
  site: SiteSchema.extend({
    certificates: z
      .array(
        z.union([
          z.strictObject({ der: z.base64(), blocked: z.boolean().default(false) }),
          z.strictObject({ media: z.string(), blocked: z.boolean().default(false) }),
          z.strictObject({ file: z.string(), blocked: z.boolean().default(false) }),
        ]),
      )
      .default([]),
  }).optional(),
  /** Media by name: a spec (built first; its MPs are http(s)://10.0.2.100, .101, … in site order) or a built .iso/.img. */
  media: z.record(z.string(), z.string()),
  cases: z
    .array(
      z.strictObject({
        name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/),
        media: z.string(),
        profile: z.enum(PROFILE_IDS).default("x64-bios"),
        nic: z.string().default("e1000"),
        /** Which site MPs run, in guest-address order (the first is 10.0.2.100); default: all up. */
        mps: z
          .array(z.strictObject({ name: z.string(), up: z.boolean().default(true), tls: pem.optional() }))
          .optional(),
        /** The MPs' clock: an ISO date(-time), "+400d"/"-2d" from now, or "certificate-expired" / "certificate-not-yet-valid". */
        clock: z.string().optional(),
        /** What the testbed types at the boot prompts; the password as env:NAME or file:PATH only. */
        answers: z.record(z.string(), z.array(z.string())).default({}),
        /** Replaces these parts of the site database for this case (e.g. `computers: []`: the site does not know the guest). */
        site: CaseSiteSchema.optional(),
        /** PKI: issuer DNs the HTTPS MPs trust (as media.json `certificate.issuer` writes them). */
        pkiIssuers: z.array(z.string()).optional(),
        /**
         * A deploy case: the machine gets this blank disk, the site's DPs serve its library, and
         * after the engine's restart the testbed boots the machine again from the disk alone.
         * `none`: a deploy case whose machine has no disk at all.
         */
        disk: z
          .union([
            z.literal("none"),
            z.strictObject({
              size: z.union([z.string(), z.number()]),
              bus: z.string().default("virtio"),
              /** Keep the deployed disk as cases/<id>/disk.raw (sparse) for a look with other tools. */
              keep: z.boolean().default(false),
            }),
          ])
          .optional(),
        /**
         * A deploy case's outage: the MPs stop once the machine has its policy and start again
         * (same addresses, same state) this many seconds after the installed OS's marker.
         */
        mpOutage: z.strictObject({ backAfterSec: z.number().int().min(0).max(600) }).optional(),
        /**
         * A deploy case's DPs serving something else than the site's library: per site DP, another
         * library folder (e.g. a copy whose image has changed bytes, its package.json the same).
         */
        dps: z.array(z.strictObject({ name: z.string(), library: z.string() })).optional(),
      }),
    )
    .min(1),
});
type SiteFile = z.output<typeof SiteFileSchema>;

export interface SiteCasePlan {
  name: string;
  profile: ProfileId;
  nic: string;
  media: MediaUnderTest & { label: string };
  /** What the MPs will answer; null for stand-alone media (no MP is asked). */
  expected: ExpectedMpOutcome | null;
}

export async function loadSiteFile(file: string): Promise<{ file: string; dir: string; data: SiteFile }> {
  const abs = resolve(file);
  let raw: unknown;
  try {
    raw = parseYamlData(await readFile(abs, "utf8"), file);
  } catch (e) {
    throw new BootmediaError("BM5305", `${file}: ${(e as Error).message.split("\n")[0]}`, { where: file });
  }
  const r = SiteFileSchema.safeParse(raw);
  if (!r.success) {
    const issue = r.error.issues[0]!;
    throw new BootmediaError("BM5305", `${file}: ${issue.path.join(".") || "(root)"}: ${issue.message}`, {
      where: file,
    });
  }
  for (const c of r.data.cases) {
    if (c.mpOutage && !c.disk)
      throw new BootmediaError("BM5305", `${file}: case ${c.name} has an mpOutage but no disk (a deploy case)`, {
        where: file,
      });
    if (!(c.media in r.data.media))
      throw new BootmediaError(
        "BM5305",
        `${file}: case ${c.name} names media "${c.media}", which the file does not list`,
        { where: file },
      );
    if (c.dps && !c.disk)
      throw new BootmediaError("BM5305", `${file}: case ${c.name} has dps but no disk (dps are a deploy case's)`, {
        where: file,
      });
    for (const dp of c.dps ?? [])
      if (!r.data.site?.distributionPoints.some((d) => d.name === dp.name))
        throw new BootmediaError(
          "BM5305",
          `${file}: case ${c.name}'s dps names ${dp.name}, which is not one of the site's distribution points`,
          { where: file },
        );
  }
  return { file: abs, dir: dirname(abs), data: r.data };
}

/** Builds (or reads) every media, registers certificates, and derives each case's expected outcome. */
export async function planSiteCases(
  loaded: Awaited<ReturnType<typeof loadSiteFile>>,
  build: (spec: string, outDir: string, name: string) => Promise<string>,
  workDir: string,
  nowMs = Date.now(),
): Promise<SiteCasePlan[]> {
  // Every case has management points; refused before minutes of building media.
  checkHostNeeds(
    hostNeedsOf(
      loaded.data.cases.map((c) => c.profile),
      true,
    ),
  );
  const built = new Map<
    string,
    { media: MediaUnderTest; settings: MpMediaSettings; config: Record<string, unknown>; cer?: string }
  >();
  for (const [name, input] of Object.entries(loaded.data.media)) {
    const abs = resolve(loaded.dir, input);
    const path = isSpecFile(abs) ? await build(abs, join(workDir, name), name) : abs;
    const opened = await openMedia(path, await builtinInspectors());
    const settings = opened.config as unknown as MpMediaSettings | undefined;
    // Stand-alone media ask no MP (standalonePlan); bootable media must name MPs.
    if (!settings || (!settings.managementPoints && !opened.config?.standalone))
      throw new BootmediaError(
        "BM5305",
        `media ${name} (${path}) carries no management points in bootmedia/media.json`,
        { where: path },
      );
    built.set(name, {
      media: await describeMedia(path, name),
      settings,
      config: opened.config ?? {},
      cer: join(dirname(path), `${settings.id}.cer`),
    });
  }
  const fileSite = loaded.data.site ? await siteDatabase(loaded.data.site, loaded, built) : undefined;
  const redactor = new Redactor();
  const plans: SiteCasePlan[] = [];
  for (const c of loaded.data.cases) {
    const m = built.get(c.media)!;
    if (m.media.standalone) {
      const answers = await resolveAnswers(c.answers, loaded.dir, redactor, c.name);
      plans.push(standalonePlan(c, m, answers, loaded.file));
      continue;
    }
    if (!fileSite)
      throw new BootmediaError(
        "BM5305",
        `${loaded.file}: case ${c.name} boots media ${c.media}, which ask a management point: the file needs a site`,
        { where: loaded.file },
      );
    const site = siteOfCase(fileSite, c.site, `${loaded.file} (case ${c.name})`);
    const mps: NonNullable<typeof c.mps> = c.mps ?? site.managementPoints.map((name) => ({ name, up: true }));
    const now = clockOf(c.clock, m.settings, nowMs);
    const guestMps = mps.flatMap((mp, i) =>
      mp.up ? [{ name: mp.name, url: `${mp.tls ? "https" : "http"}://10.0.2.${100 + i}` }] : [],
    );
    const expected = expectMpOutcome(
      m.settings,
      site,
      { mps: guestMps, ...(c.pkiIssuers ? { pkiIssuers: c.pkiIssuers } : {}) },
      SITE_GUEST,
      Math.floor(now / 1000),
    );
    const tlsOf = async (t: z.output<typeof pem> | undefined) =>
      t
        ? {
            cert: await readFile(resolve(loaded.dir, t.cert), "utf8"),
            key: await readFile(resolve(loaded.dir, t.key), "utf8"),
            ca: await readFile(resolve(loaded.dir, t.ca), "utf8"),
          }
        : undefined;
    const caseMps: CaseManagementPoints = {
      site,
      siteDir: loaded.dir,
      mps: await Promise.all(
        mps.map(async (mp) => ({ name: mp.name, up: mp.up, ...(mp.tls ? { tls: await tlsOf(mp.tls) } : {}) })),
      ),
      ...(c.clock ? { now: () => Math.floor(now / 1000) } : {}),
    };
    const answers = await resolveAnswers(c.answers, loaded.dir, redactor, c.name);
    const failure = failureOf(expected);
    const deploy = c.disk
      ? {
          ...deployOf(c.name, c.disk, c.dps ?? [], site, loaded, expected),
          ...(c.mpOutage ? { mpOutage: c.mpOutage } : {}),
        }
      : undefined;
    const taskSequence = expected.policy ? await caseTaskSequence(site, loaded.dir, expected, m.config) : undefined;
    plans.push({
      name: c.name,
      profile: c.profile,
      nic: c.nic,
      expected,
      media: {
        ...m.media,
        label: c.name,
        managementPoints: caseMps,
        ...(Object.keys(answers).length ? { answers } : {}),
        ...(failure ? { expectFailure: failure } : {}),
        ...(taskSequence ? { taskSequence } : {}),
        ...(deploy ? { deploy } : {}),
      },
    });
  }
  return plans;
}

/**
 * A case on stand-alone media: a deploy case with no MP or DP (the machine, as a rule, with no
 * NIC: `nic: none`); the computer is the media variables' OSDComputerName (else the boot
 * environment's MININT- name) and the deployment the media's id.
 */
function standalonePlan(
  c: SiteFile["cases"][number],
  m: {
    media: MediaUnderTest;
    config: Record<string, unknown>;
  },
  answers: Record<string, string[]>,
  file: string,
): SiteCasePlan {
  const where = `${file} (case ${c.name})`;
  if (!c.disk || c.disk === "none")
    throw new BootmediaError("BM5305", `${where}: stand-alone media deploy: the case needs a disk`, { where: file });
  const mpOnly = (["mps", "mpOutage", "dps", "site", "clock", "pkiIssuers"] as const).filter((k) => c[k] !== undefined);
  if (mpOnly.length > 0)
    throw new BootmediaError(
      "BM5305",
      `${where}: ${mpOnly.join(", ")} concern management points; stand-alone media ask none`,
      { where: file },
    );
  const variables = (m.config.variables ?? {}) as Record<string, unknown>;
  const computer = typeof variables.OSDComputerName === "string" ? variables.OSDComputerName : null;
  return {
    name: c.name,
    profile: c.profile,
    nic: c.nic,
    expected: null,
    media: {
      ...m.media,
      label: c.name,
      ...(Object.keys(answers).length ? { answers } : {}),
      deploy: {
        disk: { sizeBytes: parseDiskSize(c.disk.size, where), bus: checkDiskBus(c.disk.bus, where) },
        distributionPoints: [],
        computer,
        deploymentId: String(m.config.id ?? ""),
        standalone: true,
        ...(c.disk.keep ? { keepDisk: true } : {}),
      },
    },
  };
}

/** A case with a disk: what the deploy case needs from the site and the policy the MPs will give. */
function deployOf(
  name: string,
  disk: "none" | { size: string | number; bus: string; keep: boolean },
  dps: ReadonlyArray<{ name: string; library: string }>,
  site: Site,
  loaded: Awaited<ReturnType<typeof loadSiteFile>>,
  expected: ExpectedMpOutcome,
): CaseDeploy {
  const where = `${loaded.file} (case ${name})`;
  if (expected.result !== "policy" || !expected.policy)
    throw new BootmediaError(
      "BM5305",
      `${where}: a deploy case (disk) needs the MPs to give a policy; this case's answer is ${expected.result ?? "none"}`,
      { where: loaded.file },
    );
  const served = siteDistributionPoints(site, loaded.dir, where);
  return {
    disk: disk === "none" ? null : { sizeBytes: parseDiskSize(disk.size, where), bus: checkDiskBus(disk.bus, where) },
    distributionPoints: served.map((s) => {
      const other = dps.find((dp) => dp.name === s.name);
      return other ? { ...s, root: resolve(loaded.dir, other.library) } : s;
    }),
    computer: expected.policy.computer,
    deploymentId: expected.policy.deploymentId,
    ...(disk !== "none" && disk.keep ? { keepDisk: true } : {}),
  };
}

/**
 * The task sequence the case's policy carries, as the engine will start it: its steps (the
 * site's, inline or from its library) and the variables (media.json's, the secret names, the
 * policy's, the engine's own). Undefined when the task sequence has no steps.
 */
async function caseTaskSequence(
  site: Site,
  siteDir: string,
  expected: ExpectedMpOutcome,
  config: Record<string, unknown>,
): Promise<CaseTaskSequence | undefined> {
  const policy = expected.policy!;
  const content = (await resolveSite(site, { baseDir: siteDir })).content.get(policy.taskSequence);
  if (!content) return undefined;
  const strings = (v: unknown): Record<string, string> =>
    Object.fromEntries(
      Object.entries(typeof v === "object" && v !== null ? v : {}).filter(
        (e): e is [string, string] => typeof e[1] === "string",
      ),
    );
  return {
    deploymentId: policy.deploymentId,
    steps: flattenSteps(content.steps),
    variables: startingVariables({
      media: strings(config.variables),
      secretNames: Array.isArray(config.secretVariables) ? config.secretVariables.map(String) : [],
      policy: policy.variables,
      computer: policy.computer,
      engine: {
        _SMSTSMediaType: "BootMedia",
        _SMSTSMachineName: policy.computer,
        _SMSTSMacAddresses: SITE_GUEST.mac,
        _SMSTSPackageID: policy.taskSequence,
        _SMSTSAdvertID: policy.deploymentId,
        _SMSTSMP: expected.contacts.at(-1) ?? "",
      },
    }),
  };
}

/** The site a case runs against: the file's, with only the parts the case names replaced. */
export function siteOfCase(fileSite: Site, parts: CaseSite | undefined, where: string): Site {
  if (!parts) return fileSite;
  const named = Object.fromEntries(Object.entries(parts).filter(([, value]) => value !== undefined));
  return parseSite({ ...fileSite, ...named }, where);
}

async function siteDatabase(
  fileSite: NonNullable<SiteFile["site"]>,
  loaded: Awaited<ReturnType<typeof loadSiteFile>>,
  built: Map<string, { cer?: string }>,
): Promise<Site> {
  const certificates = await Promise.all(
    fileSite.certificates.map(async (c) => {
      if ("der" in c) return c;
      const path = "media" in c ? built.get(c.media)?.cer : resolve(loaded.dir, c.file);
      if (!path)
        throw new BootmediaError(
          "BM5305",
          `site certificate names media "${(c as { media: string }).media}", which the file does not list`,
          { where: loaded.file },
        );
      const der = await readFile(path).catch(() => {
        throw new BootmediaError(
          "BM5305",
          `site certificate ${path} cannot be read (media without a certificate write no .cer)`,
          { where: loaded.file },
        );
      });
      return { der: der.toString("base64"), blocked: c.blocked };
    }),
  );
  return parseSite({ ...fileSite, certificates }, loaded.file);
}

/** The MPs' clock in ms. */
export function clockOf(clock: string | undefined, media: MpMediaSettings, nowMs: number): number {
  if (clock === undefined) return nowMs;
  const rel = /^([+-])(\d+)d$/.exec(clock);
  if (rel) return nowMs + (rel[1] === "+" ? 1 : -1) * Number(rel[2]) * DAY_MS;
  if (clock === "certificate-expired" || clock === "certificate-not-yet-valid") {
    if (!media.certificate) throw new BootmediaError("BM5305", `clock ${clock}: the media has no certificate`);
    return clock === "certificate-expired"
      ? Date.parse(media.certificate.notAfter) + DAY_MS
      : Date.parse(media.certificate.notBefore) - DAY_MS;
  }
  const at = Date.parse(clock);
  if (Number.isNaN(at))
    throw new BootmediaError(
      "BM5305",
      `clock "${clock}" is not an ISO date, +Nd/-Nd, certificate-expired or certificate-not-yet-valid`,
    );
  return at;
}

async function resolveAnswers(
  answers: Record<string, string[]>,
  dir: string,
  redactor: Redactor,
  where: string,
): Promise<Record<string, string[]>> {
  const out: Record<string, string[]> = {};
  for (const [key, values] of Object.entries(answers)) {
    out[key] = await Promise.all(
      values.map(async (v) => {
        const ref = /^(env|file):(.+)$/.exec(v);
        if (ref)
          return resolveSecret(
            ref[1] === "env" ? { env: ref[2]! } : { file: ref[2]! },
            dir,
            redactor,
            `case ${where} answer ${key}`,
          );
        if (key === "password")
          throw new BootmediaError(
            "BM1006",
            `case ${where}: a password answer is env:NAME or file:PATH, never the password itself`,
          );
        return v;
      }),
    );
  }
  return out;
}

/** What a boot ends in when the MPs answer `e` (the agent's error markers). */
function failureOf(e: ExpectedMpOutcome): ExpectedFailure | undefined {
  if (e.result === "policy") return undefined;
  if (e.result === null) return "no-mp-reachable";
  if (e.result === "unknown-computer" || e.result === "no-deployment" || e.result === "certificate-rejected")
    return e.result;
  throw new BootmediaError("BM5305", `no boot outcome for the MP answer ${e.result}`);
}

/**
 * Runs the planned cases, one testbed run per machine profile and NIC, all at once under one
 * limit of `concurrency` cases; results in `reportDir/<profile>-<nic>/`, in the file's order of groups.
 */
export async function runSitePlans(
  plans: SiteCasePlan[],
  opts: Omit<TestbedOptions, "media" | "profiles" | "nics" | "reportDir"> & { reportDir: string },
): Promise<Array<{ plan: SiteCasePlan; result: CaseResult; reportDir: string }>> {
  const groups = new Map<string, SiteCasePlan[]>();
  for (const p of plans) groups.set(`${p.profile}-${p.nic}`, [...(groups.get(`${p.profile}-${p.nic}`) ?? []), p]);
  const limit = opts.limit ?? pLimit(Math.max(1, opts.concurrency ?? availableParallelism()));
  const runs = await Promise.all(
    [...groups].map(async ([key, group]) => {
      const reportDir = join(opts.reportDir, key);
      const report = await runTestbed({
        ...opts,
        limit,
        media: group.map((p) => p.media),
        profiles: [group[0]!.profile],
        nics: [group[0]!.nic],
        reportDir,
      });
      return report.cases.map((result) => ({
        plan: group.find((p) => p.name === result.media.label)!,
        result,
        reportDir,
      }));
    }),
  );
  return runs.flat();
}
