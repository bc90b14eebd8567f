/**
 * Parts of files split across volumes are byte ranges of cached content. Writers take
 * whole files, so each range is copied to a temporary file for the duration of the write.
 */
import { open, rm } from "node:fs/promises";
import { join } from "node:path";
import { scratchDir } from "./scratch.ts";
import type { EntrySource, MediaLayout } from "./types.ts";

type Slice = Extract<EntrySource, { kind: "slice" }>;
const key = (s: Slice) => `${s.sha256}:${s.offset}:${s.length}`;

export async function materializeSlices(layout: MediaLayout, cachedPath: (sha256: string) => string) {
  const slices = layout.volumes
    .flatMap((v) => v.entries)
    .flatMap((e) => (e.type === "file" && e.source.kind === "slice" ? [e.source] : []));
  const paths = new Map<string, string>();
  const dir = slices.length > 0 ? await scratchDir("parts") : undefined;
  for (const [i, s] of slices.entries()) {
    const dest = join(dir!, `part-${i}`);
    await copyRange(cachedPath(s.sha256), dest, s.offset, s.length);
    paths.set(key(s), dest);
  }
  return {
    pathOf: (s: Slice) => {
      const p = paths.get(key(s));
      if (!p) throw new Error(`slice ${key(s)} was not prepared`);
      return p;
    },
    cleanup: async () => {
      if (dir) await rm(dir, { recursive: true, force: true });
    },
  };
}

async function copyRange(src: string, dest: string, offset: number, length: number): Promise<void> {
  const from = await open(src, "r");
  const to = await open(dest, "w");
  const buf = Buffer.allocUnsafe(4 * 1024 * 1024);
  try {
    for (let done = 0; done < length; ) {
      const { bytesRead } = await from.read(buf, 0, Math.min(buf.length, length - done), offset + done);
      if (bytesRead === 0) throw new Error(`${src} ended before byte ${offset + length}`);
      await to.write(buf, 0, bytesRead);
      done += bytesRead;
    }
  } finally {
    await from.close();
    await to.close();
  }
}
