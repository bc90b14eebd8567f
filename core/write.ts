/** What a writer plugin implements, and the helpers core gives it. */
import type { Progress } from "./progress.ts";
import type { OutputTransaction } from "./output.ts";
import type { EntrySource, MediaLayout, ResolvedMedia, ResolvedTarget, Volume } from "./types.ts";
import type { FileSource, TreeEntry } from "../base/tree.ts";

export interface WriteContext {
  layout: MediaLayout;
  media: ResolvedMedia;
  target: ResolvedTarget;
  /** Ask for a temporary path for each output; core renames them on success. */
  tx: OutputTransaction;
  progress: Progress;
  /** The volume's entries as writer input, content mapped to verified cache files. */
  treeOf(volume: Volume): TreeEntry[];
  sourceOf(source: EntrySource): FileSource;
  sourceDateEpoch: number;
  /** Skip confirmation prompts (--yes). */
  yes: boolean;
}

export interface MediaWriter {
  /** Every final output path for this layout (checked against --force before writing). */
  outputs(layout: MediaLayout, target: ResolvedTarget): string[];
  /** Writes every output to tx temporaries; returns sizes (and hashes if computed). */
  write(ctx: WriteContext): Promise<Array<{ path: string; bytes: number; sha256?: string }>>;
}

/**
 * A volume's entries as writer input for planning only (sizes and names matter; the bytes
 * are not read), so plan and checkLayout can run before anything is fetched.
 */
export function plannedTree(volume: Volume): TreeEntry[] {
  return volume.entries.map((e) =>
    e.type === "dir"
      ? e
      : {
          ...e,
          source:
            e.source.kind === "content" || e.source.kind === "slice"
              ? { kind: "file" as const, path: `(content ${e.source.sha256})` }
              : e.source,
        },
  );
}
