/**
 * `library verify` of an os-image package, in one read of its image: the stored bytes against
 * the files entry (size, sha256), the decompressed bytes against `osImage.size`/`sha256`, and
 * the partition table read again against `osImage.partitions`.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { BootmediaError, type ErrorCode } from "../../base/errors.ts";
import type { ContentPackage } from "../../core/types.ts";
import { readPartitionTable } from "../../formats/disk/partitions.ts";
import { scanImage } from "./image-scan.ts";

interface Problem {
  code: ErrorCode;
  id: string;
  message: string;
}

/** Problems of the package's image (none when it matches its manifest). */
export async function verifyOsImage(library: string, pkg: ContentPackage): Promise<Problem[]> {
  const o = pkg.osImage!;
  const id = pkg.id;
  const file = pkg.files.find((f) => f.path === o.image)!;
  const path = join(library, "packages", id, "files", o.image);
  const problem = (message: string, code: ErrorCode = "BM2304") => [
    { code, id, message: `${id}/${o.image}: ${message}` },
  ];
  if (!existsSync(path)) return problem("missing");
  let scan;
  try {
    scan = await scanImage(path, o.compression, { where: `${id}/${o.image}` });
  } catch (e) {
    if (e instanceof BootmediaError) return problem(e.message, e.code);
    throw e;
  }
  if (scan.storedBytes !== file.size) return problem(`${scan.storedBytes} bytes, the manifest says ${file.size}`);
  if (scan.storedSha256 !== file.sha256) return problem("sha256 differs from the manifest's");
  if (scan.size !== o.size) return problem(`${scan.size} bytes uncompressed, the manifest says ${o.size}`);
  if (scan.sha256 !== o.sha256) return problem("the uncompressed bytes' sha256 differs from the manifest's");
  try {
    const table = readPartitionTable(scan.head, scan.size, `${id}/${o.image}`);
    const now = JSON.stringify(table.partitions.map((p) => [p.index, p.start, p.size, p.type]));
    const said = JSON.stringify(o.partitions.map((p) => [p.index, p.start, p.size, p.type]));
    if (table.kind !== o.partitionTable || now !== said)
      return problem("its partition table differs from the manifest's partitions", "BM2003");
  } catch (e) {
    if (e instanceof BootmediaError) return problem(e.message, e.code);
    throw e;
  }
  return [];
}
