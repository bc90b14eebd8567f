/** Checks core applies to every layout, whatever the media format. */
import { diagnostic, type Diagnostic } from "../base/diagnostics.ts";
import type { Volume } from "./types.ts";
import "./codes.ts";

/** Two entries at one media path are an error unless both are the same content. */
export function checkCollisions(volume: Volume): Diagnostic[] {
  const seen = new Map<string, string>();
  const out: Diagnostic[] = [];
  for (const e of volume.entries) {
    const key = e.path.toLowerCase();
    const identity =
      e.type === "dir" ? "dir" : e.source.kind === "content" ? e.source.sha256 : `${e.source.kind}:${e.path}:${e.size}`;
    const prev = seen.get(key);
    if (prev !== undefined && prev !== identity) {
      out.push(
        diagnostic("BM3001", `two different sources want "${e.path}" on volume ${volume.index}`, { path: e.path }),
      );
    }
    seen.set(key, identity);
  }
  return out;
}

/** Drops exact duplicates (same path, same content), keeping the first. */
export function dedupeEntries(volume: Volume): void {
  const seen = new Set<string>();
  volume.entries = volume.entries.filter((e) => {
    const key = `${e.path.toLowerCase()}|${e.type === "file" && e.source.kind === "content" ? e.source.sha256 : e.type}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
