/**
 * in-toto Statements v1 (github.com/in-toto/attestation, spec/v1): a subject (name and
 * sha256), a predicate type and the predicate. bootmedia writes two predicates: SLSA
 * Provenance v1 for a build (`<output>.intoto.json`) and its testbed verdicts
 * (TESTBED_PREDICATE_TYPE, docs/sbom.md). Signed, a statement travels as the payload of a DSSE
 * envelope (dsse.ts); unsigned, as the statement itself. Reading one back trusts nothing
 * until its shape, its signature and its subject have been checked (verify.ts).
 */
import { z } from "zod";
import { BootmediaError } from "../../base/errors.ts";
import { IN_TOTO_PAYLOAD_TYPE, signEnvelope, type DsseEnvelope, type SigningKey } from "./dsse.ts";
import { JSON_INPUT_LIMITS, parseJsonText, readJsonFile } from "./json-input.ts";
import "./codes.ts";

export const STATEMENT_TYPE = "https://in-toto.io/Statement/v1";
export const SLSA_PROVENANCE_TYPE = "https://slsa.dev/provenance/v1";
/** bootmedia's own predicate: a testbed run's verdicts on one medium (docs/sbom.md). */
export const TESTBED_PREDICATE_TYPE = "urn:bootmedia:testbed-verdicts:v1";
/** The SLSA buildType of `bootmedia build` (docs/sbom.md describes its parameters). */
export const BUILD_TYPE = "urn:bootmedia:build:v1";

export interface Subject {
  name: string;
  digest: { sha256: string };
}

export interface Statement<P = Record<string, unknown>> {
  _type: typeof STATEMENT_TYPE;
  subject: Subject[];
  predicateType: string;
  predicate: P;
}

export function statement<P>(subject: Subject, predicateType: string, predicate: P): Statement<P> {
  return { _type: STATEMENT_TYPE, subject: [subject], predicateType, predicate };
}

/** The file's text: a signed envelope, or the statement itself; key order fixed, so equal inputs give equal bytes. */
export function attestationText(s: Statement<unknown>, signer?: SigningKey): string {
  if (!signer) return `${JSON.stringify(s, null, 2)}\n`;
  const envelope = signEnvelope(IN_TOTO_PAYLOAD_TYPE, Buffer.from(JSON.stringify(s), "utf8"), signer);
  return `${JSON.stringify(envelope, null, 2)}\n`;
}

const base64 = z.string().regex(/^[A-Za-z0-9+/]*={0,2}$/, "not base64");
const hex64 = z.string().regex(/^[0-9a-f]{64}$/, "not a sha256 in hex");

const envelopeSchema = z.object({
  payloadType: z.string(),
  payload: base64,
  signatures: z.array(z.object({ keyid: z.string().optional(), sig: base64 })).max(16),
});

const statementSchema = z.object({
  _type: z.literal(STATEMENT_TYPE),
  subject: z
    .array(z.object({ name: z.string(), digest: z.object({ sha256: hex64 }).passthrough() }))
    .min(1)
    .max(64),
  predicateType: z.string(),
  predicate: z.record(z.string(), z.unknown()),
});

export interface ReadAttestation {
  statement: Statement;
  /** Present when the file is a DSSE envelope. */
  envelope?: DsseEnvelope;
}

function shapeError(what: string, path: string, issue: z.core.$ZodIssue | undefined): BootmediaError {
  const at = issue ? `${issue.path.join(".") || "(top)"}: ${issue.message}` : "unexpected shape";
  return new BootmediaError("BM6006", `${what} ${path} is not an in-toto statement bootmedia reads (${at})`, {
    where: path,
  });
}

/** Reads a statement file (envelope or bare statement), checking its shape only: signature and subject are the caller's. */
export async function readAttestation(path: string, what: string): Promise<ReadAttestation> {
  const json = await readJsonFile(path, JSON_INPUT_LIMITS.statementBytes, what);
  if (json && typeof json === "object" && "payloadType" in json) {
    const env = envelopeSchema.safeParse(json);
    if (!env.success) throw shapeError(what, path, env.error.issues[0]);
    if (env.data.payloadType !== IN_TOTO_PAYLOAD_TYPE)
      throw new BootmediaError("BM6006", `${what} ${path} carries ${env.data.payloadType}, not an in-toto statement`, {
        where: path,
      });
    const payload = Buffer.from(env.data.payload, "base64").toString("utf8");
    const st = statementSchema.safeParse(parseJsonText(payload, `${what} ${path} (payload)`));
    if (!st.success) throw shapeError(what, path, st.error.issues[0]);
    return { statement: st.data as Statement, envelope: env.data as DsseEnvelope };
  }
  const st = statementSchema.safeParse(json);
  if (!st.success) throw shapeError(what, path, st.error.issues[0]);
  return { statement: st.data as Statement };
}
