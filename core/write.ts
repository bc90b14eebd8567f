/** What a writer plugin implements, and the helpers core gives it. */
import type { Progress } from "./progress.ts";
import type { OutputTransaction } from "./output.ts";
import type { EntrySource, MediaLayout, ResolvedMedia, Target, Volume } from "./types.ts";
import type { FileSource, TreeEntry } from "../formats/tree.ts";

export interface WriteContext {
  layout: MediaLayout;
  media: ResolvedMedia;
  target: Target;
  /** Ask for a temporary path for each output; core renames them on success. */
  tx: OutputTransaction;
  progress: Progress;
  /** The volume's entries as writer input, content mapped to verified cache files. */
  treeOf(volume: Volume): TreeEntry[];
  sourceOf(source: EntrySource): FileSource;
  sourceDateEpoch: number;
}

export interface MediaWriter {
  /** Every final output path for this layout (checked against --force before writing). */
  outputs(layout: MediaLayout, target: Target): string[];
  /** Writes every output to tx temporaries; returns sizes (and hashes if computed). */
  write(ctx: WriteContext): Promise<Array<{ path: string; bytes: number; sha256?: string }>>;
}
