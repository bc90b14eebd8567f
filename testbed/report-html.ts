/**
 * One self-contained HTML page: the matrix table (profiles × media/NIC), then per case
 * its last screen inlined as a data: URI, the serial tail, expected vs actual, timings.
 * No scripts, no external files, so it can be mailed or archived as it is.
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import type { TestbedReport } from "./report-model.ts";
import type { CaseResult } from "./runner.ts";
import { escapeXml as esc } from "./report-model.ts";
import { describeOutcome } from "./verdict.ts";
import { stripTerminalCodes } from "./markers.ts";

const SERIAL_TAIL_LINES = 40;

const STYLE = `body{font:14px system-ui,sans-serif;margin:24px;color:#222}
table{border-collapse:collapse;margin:12px 0}td,th{border:1px solid #ccc;padding:4px 8px;text-align:left}
.ok{background:#d9f2d9}.bad{background:#f8d0d0}.summary{font-size:18px}
section{border-top:2px solid #ddd;margin-top:20px;padding-top:8px}
img{max-width:640px;border:1px solid #999}pre{background:#111;color:#ddd;padding:8px;max-height:320px;overflow:auto;font-size:12px}`;

export async function renderHtml(report: TestbedReport, dir: string): Promise<string> {
  const sections = await Promise.all(report.cases.map((c) => renderCase(c, dir)));
  const s = report.summary;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>bootmedia testbed: ${s.ok}/${s.total} as expected</title>
<style>${STYLE}</style></head><body>
<h1>bootmedia testbed</h1>
<p class="summary ${s.mismatched === 0 && !s.notRun ? "ok" : "bad"}">${s.ok} of ${s.total} cases as expected, ${s.mismatched} mismatched${s.notRun ? `, ${s.notRun} not run` : ""} (accelerator ${esc(report.accel)}${report.shard ? `, shard ${report.shard.index}/${report.shard.count}` : ""})</p>
${renderNotRun(report)}${renderMatrix(report.cases)}
${sections.join("\n")}
</body></html>
`;
}

/** Shards that left no results (a partial merge): which, why, and the cases nobody judged. */
function renderNotRun(report: TestbedReport): string {
  if (!report.notRun?.length) return "";
  const rows = report.notRun.map(
    (n) =>
      `<tr class="bad"><th>shard ${n.shard.index}/${n.shard.count}</th><td>${esc(n.why)}</td><td>${n.cases.map(esc).join("<br>")}</td></tr>`,
  );
  return `<h2 class="bad">Shards without results</h2>\n<table><tr><th>shard</th><th>why</th><th>cases not run</th></tr>${rows.join("")}</table>\n`;
}

/** Rows are profiles, columns media × NIC; each cell links to its case section. */
function renderMatrix(cases: readonly CaseResult[]): string {
  const profiles = [...new Set(cases.map((c) => c.profile))];
  const columns = [...new Set(cases.map((c) => `${c.media.label} · ${c.nic}`))].sort();
  const cell = (profile: string, column: string) => {
    const c = cases.find((x) => x.profile === profile && `${x.media.label} · ${x.nic}` === column);
    if (!c) return "<td></td>";
    return `<td class="${c.ok ? "ok" : "bad"}"><a href="#${esc(c.id)}">${esc(describeOutcome(c.actual))}</a>${c.ok ? "" : `<br>expected ${esc(describeOutcome(c.expected))}`}</td>`;
  };
  const head = `<tr><th>profile</th>${columns.map((col) => `<th>${esc(col)}</th>`).join("")}</tr>`;
  const rows = profiles.map((p) => `<tr><th>${esc(p)}</th>${columns.map((col) => cell(p, col)).join("")}</tr>`);
  return `<table>${head}${rows.join("")}</table>`;
}

async function renderCase(c: CaseResult, dir: string): Promise<string> {
  const shot = c.screenshot ? await readFile(join(dir, c.screenshot)).catch(() => null) : null;
  const serial = await readFile(join(dir, c.serialLog), "utf8").catch(() => "");
  const tail = stripTerminalCodes(serial).split("\n").slice(-SERIAL_TAIL_LINES).join("\n");
  const t = c.timings;
  const detail = c.actual.status === "fail" ? `<tr><th>detail</th><td>${esc(c.actual.detail)}</td></tr>` : "";
  return `<section id="${esc(c.id)}"><h2 class="${c.ok ? "ok" : "bad"}">${esc(c.id)} — ${c.ok ? "as expected" : "MISMATCH"}</h2>
<table><tr><th>media</th><td>${esc(c.media.kind)} ${esc(c.media.label)} (images ${esc(c.media.images.join(", "))})</td></tr>
<tr><th>expected</th><td>${esc(describeOutcome(c.expected))}</td></tr><tr><th>actual</th><td>${esc(describeOutcome(c.actual))}</td></tr>${detail}
${renderJudging(c)}<tr><th>timings</th><td>first serial byte ${t.firstSerialMs ?? "–"} ms, verdict ${t.verdictMs} ms, total ${t.totalMs} ms; QEMU exit ${c.exitStatus ?? "stopped by testbed"}</td></tr></table>
${c.deploy ? await renderDeploy(c, dir) : `${shot ? `<img alt="last screen of ${esc(c.id)}" src="data:image/png;base64,${shot.toString("base64")}">` : "<p>no screenshot</p>"}`}
${renderTaskSequence(c)}${renderMpLogs(c)}${c.deploy ? "" : `<pre>${esc(tail)}</pre>`}</section>`;
}

/** A deploy case: the disk, the installed OS's marker and `deployed`, then each boot's screen, milestones and serial tail. */
async function renderDeploy(c: CaseResult, dir: string): Promise<string> {
  const d = c.deploy!;
  const boots = await Promise.all(
    d.boots.map(async (b, i) => {
      const shot = b.screenshot ? await readFile(join(dir, b.screenshot)).catch(() => null) : null;
      const serial = await readFile(join(dir, b.serialLog), "utf8").catch(() => "");
      const tail = stripTerminalCodes(serial).split("\n").slice(-SERIAL_TAIL_LINES).join("\n");
      const steps = Object.entries(b.milestones)
        .map(([k, ms]) => `${k} ${(ms / 1000).toFixed(1)} s`)
        .join(", ");
      return `<h3>boot ${i + 1}: from the ${b.what === "media" ? "media" : "disk alone"}</h3><p>${esc(steps)}; QEMU exit ${b.exitStatus ?? "stopped by testbed"}</p>
${shot ? `<img alt="boot ${i + 1} screen of ${esc(c.id)}" src="data:image/png;base64,${shot.toString("base64")}">` : "<p>no screenshot</p>"}<pre>${esc(tail)}</pre>`;
    }),
  );
  const disk = d.disk
    ? `${(d.disk.sizeBytes / 2 ** 30).toFixed(1)} GiB on ${d.disk.bus}`
    : "none (the machine has no disk)";
  return `<table><tr><th>disk</th><td>${esc(disk)}</td></tr><tr><th>installed OS</th><td>${d.installed ? esc(JSON.stringify(d.installed)) : "no marker"}</td></tr><tr><th>deployed at the MP</th><td>${d.deployed ? esc(`${d.deployed.name}: ${d.deployed.state}`) : "no"}</td></tr></table>
${boots.join("\n")}`;
}

/** Memory, and for cases judged by a pass pattern: the pattern and what matched where. */
function renderJudging(c: CaseResult): string {
  const rows = c.memoryMiB ? [`<tr><th>memory</th><td>${c.memoryMiB} MiB</td></tr>`] : [];
  if (c.pass) {
    const patterns = (["serial", "screen"] as const).flatMap((s) => (c.pass?.[s] ? [`${s} /${c.pass[s]}/`] : []));
    const matched = c.passMatch ? `; matched on the ${c.passMatch.source}: “${c.passMatch.text}”` : "; no match";
    rows.push(`<tr><th>pass pattern</th><td>${esc(patterns.join(", ") + matched)}</td></tr>`);
  }
  return rows.join("");
}

/** A task-sequence case: each step's state, exit code and start/finish (the MP's clock), and any disagreement. */
function renderTaskSequence(c: CaseResult): string {
  const ts = c.taskSequence;
  if (!ts) return "";
  const first = ts.timeline.find((r) => r.start !== undefined)?.start;
  const at = (ms: number | undefined) =>
    ms === undefined || first === undefined ? "–" : `+${((ms - first) / 1000).toFixed(0)} s`;
  const rows = ts.timeline.map(
    (r) =>
      `<tr><td>${r.index}</td><td>${"&nbsp;&nbsp;".repeat(r.depth)}${esc(r.name)}</td><td>${esc(r.type)}</td><td>${esc(r.state)}${r.exitCode !== undefined ? ` (exit ${r.exitCode})` : ""}</td><td>${at(r.start)}</td><td>${at(r.end)}</td></tr>`,
  );
  const problems = ts.problems.length
    ? `<p class="bad">${ts.problems.map(esc).join("<br>")}</p>`
    : "<p>engine, management point and steps agree</p>";
  return `<h3>task sequence (deployment ${esc(ts.deploymentId)})</h3><table><tr><th>step</th><th>name</th><th>type</th><th>state</th><th>start</th><th>finish</th></tr>${rows.join("")}</table>${problems}\n`;
}

/**
 * Per management point of the case: its guest URL, up or down, each request it answered, and
 * what it holds afterwards: its status lines (`mp status`), failed steps' messages, uploaded logs.
 */
function renderMpLogs(c: CaseResult): string {
  if (!c.managementPoints) return "";
  const rows = c.managementPoints.map((mp) => {
    const asked = mp.requests.map(
      (r) => `${r.method} ${r.path} → ${r.status} ${r.result}${r.why ? ` (${r.why})` : ""}${r.to ? ` → ${r.to}` : ""}`,
    );
    const held = [
      ...(mp.computers ?? []).map(
        (k) => `${k.computer} ${k.deploymentId}: ${k.state}, step ${k.step} of ${k.stepCount}, ${k.failures} failed`,
      ),
      ...(mp.status ?? [])
        .filter((e) => e.state === "failure" && e.message)
        .map((e) => `step ${e.step} ${e.name}: ${e.message}`),
    ].map(esc);
    const logs = (mp.uploadedLogs ?? []).map(
      (l) => `<a href="${esc(l.file)}">log of run ${esc(l.run)}</a> (${l.bytes} bytes)`,
    );
    return `<tr><th>${esc(mp.name)}</th><td>${esc(mp.guestUrl)} ${mp.up ? "up" : "down"}</td><td>${asked.length ? asked.map(esc).join("<br>") : "no request"}</td><td>${[...held, ...logs].join("<br>") || "–"}</td></tr>`;
  });
  return `<table><tr><th>MP</th><th>guest URL</th><th>requests</th><th>status</th></tr>${rows.join("")}</table>\n`;
}
