/**
 * Checks an imported PKI client certificate (.pfx contents): a private key is present and
 * matches a certificate (the leaf), the leaf carries client authentication, the build date
 * is inside every certificate's validity, and the chain up to a self-signed root is in the
 * file, each link's signature verified.
 */
import { createPrivateKey, X509Certificate, type KeyObject } from "node:crypto";
import { diagnostic, type Diagnostic } from "../../base/diagnostics.ts";
import { SELF_SIGNED, type CertificateMaterial } from "./self-signed.ts";
import { checkValidity } from "./validity.ts";
import type { PfxContents } from "./pkcs12.ts";
import "./codes.ts";

export function checkPkiCertificate(
  pfx: PfxContents,
  now: Date,
  at: { path: string; source: string },
): { material?: CertificateMaterial; diagnostics: Diagnostic[] } {
  const certs = pfx.certificates.map((der) => ({ der, x: new X509Certificate(der) }));
  if (pfx.privateKeys.length === 0) {
    return {
      diagnostics: [diagnostic("BM3409", `the .pfx holds ${certs.length} certificate(s) and no private key`, at)],
    };
  }
  const keys: KeyObject[] = pfx.privateKeys.map((der) => createPrivateKey({ key: der, format: "der", type: "pkcs8" }));
  let leaf: (typeof certs)[number] | undefined;
  let keyIndex = -1;
  for (const c of certs) {
    keyIndex = keys.findIndex((k) => c.x.checkPrivateKey(k));
    if (keyIndex >= 0) {
      leaf = c;
      break;
    }
  }
  if (!leaf) {
    const subjects = certs.map((c) => c.x.subject.replace(/\n/g, ", ")).join("; ") || "none";
    return {
      diagnostics: [
        diagnostic("BM3410", `the private key in the .pfx matches none of its certificates (${subjects})`, at),
      ],
    };
  }
  const diagnostics: Diagnostic[] = [];
  const name = (x: X509Certificate) => `certificate "${x.subject.replace(/\n/g, ", ")}"`;
  // Node's X509Certificate.keyUsage lists the extended key usage OIDs (undefined: no extension).
  if (!(leaf.x.keyUsage ?? []).includes(SELF_SIGNED.CLIENT_AUTH)) {
    diagnostics.push(
      diagnostic(
        "BM3411",
        `${name(leaf.x)} has extended key usage ${leaf.x.keyUsage?.join(", ") ?? "(none)"}, not client authentication`,
        at,
      ),
    );
  }
  const chain = [leaf];
  for (let cur = leaf; !isSelfSigned(cur.x); ) {
    const issuer = certs.find((c) => !chain.includes(c) && cur.x.checkIssued(c.x) && cur.x.verify(c.x.publicKey));
    if (!issuer) {
      diagnostics.push(
        diagnostic(
          "BM3412",
          `the .pfx lacks the issuer of ${name(cur.x)} ("${cur.x.issuer.replace(/\n/g, ", ")}")`,
          at,
        ),
      );
      break;
    }
    chain.push(issuer);
    cur = issuer;
  }
  for (const c of chain) {
    const what = c === leaf ? `the media ${name(c.x)}` : `issuing ${name(c.x)}`;
    diagnostics.push(
      ...checkValidity(new Date(c.x.validFrom), new Date(c.x.validTo), now, { what, ...at, futureStart: "error" }),
    );
  }
  return { material: { chain: chain.map((c) => c.der), privateKey: pfx.privateKeys[keyIndex]! }, diagnostics };
}

function isSelfSigned(x: X509Certificate): boolean {
  return x.checkIssued(x) && x.verify(x.publicKey);
}
