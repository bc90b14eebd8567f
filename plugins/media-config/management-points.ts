/** Management-point rules: site-based = exactly one MP; dynamic = distinct priorities. */
import { diagnostic, type Diagnostic } from "../../base/diagnostics.ts";
import type { MediaSpec } from "../../core/spec-schema.ts";
import "./codes.ts";
import { MANAGEMENT_POINTS } from "./spec.ts";

export function checkManagementPoints(spec: MediaSpec): Diagnostic[] {
  const mp = MANAGEMENT_POINTS.of(spec);
  if (!mp) return [];
  const out: Diagnostic[] = [];
  const bad = (i: number, message: string) => diagnostic("BM3009", message, { path: `managementPoints.list[${i}]` });
  if (mp.mode === "site-based" && mp.list.length !== 1) {
    out.push(
      diagnostic("BM3009", `site-based media contacts exactly one management point; ${mp.list.length} are listed`, {
        path: "managementPoints.list",
      }),
    );
  }
  const seenUrls = new Set<string>();
  const seenPriorities = new Set<number>();
  mp.list.forEach((m, i) => {
    let url: URL;
    try {
      url = new URL(m.url);
    } catch {
      out.push(bad(i, `"${m.url}" is not a URL`));
      return;
    }
    if (url.protocol !== "http:" && url.protocol !== "https:")
      out.push(bad(i, `${m.url}: scheme must be http or https`));
    if (url.username || url.password)
      out.push(bad(i, `${url.host}: credentials in a management point URL would sit in clear on the media`));
    const key = url.href.replace(/\/$/, "").toLowerCase();
    if (seenUrls.has(key)) out.push(bad(i, `${m.url} is listed twice`));
    seenUrls.add(key);
    if (m.priority !== undefined) {
      if (seenPriorities.has(m.priority))
        out.push(bad(i, `priority ${m.priority} is used twice; priorities set the order of first contact`));
      seenPriorities.add(m.priority);
    }
  });
  return out;
}

/** MPs in the order of first contact (priority, then list order). */
export function orderedManagementPoints(spec: MediaSpec): Array<{ url: string; priority: number }> {
  const list = MANAGEMENT_POINTS.of(spec)?.list ?? [];
  return list
    .map((m, i) => ({ url: m.url, priority: m.priority ?? i + 1, i }))
    .sort((a, b) => a.priority - b.priority || a.i - b.i)
    .map(({ url, priority }) => ({ url, priority }));
}
