/**
 * A spec as commented YAML: every option carries its schema description as a comment,
 * so the file `bootmedia init` writes explains itself and stays in step with the schema.
 */
import { Document, isMap, isScalar, type YAMLMap } from "yaml";
import { specOptions } from "./spec-flags.ts";
import type { SpecModel } from "./spec-model.ts";

export function renderSpecYaml(raw: Record<string, unknown>, header: string[], model: SpecModel): string {
  const described = new Map(specOptions(model).map((o) => [o.path.join("."), o.description]));
  const doc = new Document(raw);
  const annotate = (map: YAMLMap, path: string[]) => {
    for (const pair of map.items) {
      if (!isScalar(pair.key)) continue;
      const p = [...path, String(pair.key.value)];
      const text = described.get(p.join("."));
      if (text) pair.key.commentBefore = ` ${text}`;
      if (isMap(pair.value)) annotate(pair.value, p);
    }
  };
  if (isMap(doc.contents)) annotate(doc.contents, []);
  doc.commentBefore = header.map((l) => ` ${l}`).join("\n");
  return doc.toString({ lineWidth: 0 });
}
