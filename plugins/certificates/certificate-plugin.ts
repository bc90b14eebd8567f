/**
 * The media certificate, self-signed or imported from a PKI .pfx: checked at validate,
 * its public part written to the media (bootmedia/media.crt, PEM, leaf then chain) and
 * beside the output as <name>.cer (DER, to register with the site); its private key goes
 * into the encrypted secret part (SecretsPlugin `collect` hook) as BM_MEDIA_KEY.
 */
import { createHash, X509Certificate } from "node:crypto";
import { writeFileAtomic } from "../../base/atomic-write.ts";
import { readFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { resolveSecret } from "../../core/secrets.ts";
import { OutputTransaction } from "../../core/output.ts";
import { diagnostic, diagnosticFromError, type Diagnostic } from "../../base/diagnostics.ts";
import type { Plugin, PluginBuild } from "../../core/plugin.ts";
import type { ResolvedTarget } from "../../core/types.ts";
import type { BuildContext } from "../../core/context.ts";
import type { SecretRef } from "../../core/spec-schema.ts";
import { LAYOUT_STAGE } from "../../core/hooks.ts";
import { getSecretsHooks } from "../secrets/index.ts";
import { createSelfSignedCertificate, toPem, type CertificateMaterial } from "./self-signed.ts";
import { readPfx } from "./pkcs12.ts";
import { checkPkiCertificate } from "./pki.ts";
import { checkValidity, parseCertificateDate } from "./validity.ts";
import "./codes.ts";
import { CERTIFICATE } from "./spec.ts";
import { PASSWORD } from "../../core/media-password.ts";

const PLUGIN_NAME = "CertificatePlugin";
export const CERT_PATH = "bootmedia/media.crt";
/** The decrypted secrets.env holds the leaf's PKCS#8 private key (PEM) under this name. */
const KEY_ENTRY = "BM_MEDIA_KEY";

/** Where `<name>.cer` goes: beside the output file or folder; beside the spec when the output is a drive. */
function registrationCertPath(target: ResolvedTarget, mediaId: string, specDir: string): string {
  return join(target.isDrive ? specDir : dirname(target.output), `${mediaId}.cer`);
}

export class CertificatePlugin implements Plugin {
  readonly name = PLUGIN_NAME;
  private material?: Promise<CertificateMaterial>;
  private selfSignedDates?: { notBefore: Date; notAfter: Date };
  private cerPath?: string;

  apply(build: PluginBuild): void {
    const ctx = build.context;
    const now = () => new Date(ctx.options.sourceDateEpoch * 1000);

    build.hooks.validate.tapPromise(PLUGIN_NAME, async (media, reporter) => {
      const cert = CERTIFICATE.of(media.spec);
      if (!cert) return;
      const report = (ds: Diagnostic[]) => ds.forEach((d) => reporter.report({ ...d, source: PLUGIN_NAME }));
      if (!PASSWORD.of(media.spec)) {
        report([
          diagnostic(
            "BM3402",
            "the media certificate's private key is encrypted in the secret part, which needs a media password",
            { path: "security.password" },
          ),
        ]);
      }
      if (cert.selfSigned) report(this.checkSelfSigned(cert.selfSigned, now()));
      if (cert.pki) report(await this.importPki(cert.pki, ctx, now()));
    });

    build.hooks.layout.tapPromise({ name: PLUGIN_NAME, stage: LAYOUT_STAGE.SETTINGS }, async (layout, media) => {
      if (!CERTIFICATE.of(media.spec)) return layout;
      const material = await this.materialFor(media.spec.name, ctx.options.sourceDateEpoch);
      const pem = material.chain.map((der) => toPem("CERTIFICATE", der)).join("");
      const data = new TextEncoder().encode(pem);
      layout.volumes[0]!.entries.push({
        type: "file",
        path: CERT_PATH,
        size: data.length,
        source: { kind: "bytes", data },
      });
      const leaf = new X509Certificate(material.chain[0]!);
      const info = {
        mode: CERTIFICATE.of(media.spec)!.pki ? "pki" : "self-signed",
        file: CERT_PATH,
        subject: leaf.subject.replace(/\n/g, ", "),
        issuer: leaf.issuer.replace(/\n/g, ", "),
        serial: leaf.serialNumber,
        notBefore: new Date(leaf.validFrom).toISOString(),
        notAfter: new Date(leaf.validTo).toISOString(),
        sha256: createHash("sha256").update(material.chain[0]!).digest("hex"),
        chainLength: material.chain.length,
        privateKey: "encrypted in bootmedia/secrets.enc",
      };
      layout.config.certificate = info;
      this.cerPath = registrationCertPath(media.target, media.spec.name, media.specDir);
      ctx.log.write(
        "certificate",
        `${CERT_PATH}: "${info.subject}" serial ${leaf.serialNumber}, valid ${leaf.validFrom} .. ${leaf.validTo}, sha256 ${info.sha256}`,
      );
      return layout;
    });

    getSecretsHooks(build).collect.tapPromise(PLUGIN_NAME, async (entries, media) => {
      if (!CERTIFICATE.of(media.spec)) return entries;
      const pem = toPem(
        "PRIVATE KEY",
        (await this.materialFor(media.spec.name, ctx.options.sourceDateEpoch)).privateKey,
      );
      ctx.redactor.add(pem);
      entries[KEY_ENTRY] = pem;
      return entries;
    });

    // The writer owns the output transaction; <name>.cer is checked before the first byte
    // and written atomically (temp + fsync + rename) once the media is complete.
    build.hooks.beforeWrite.tapPromise(PLUGIN_NAME, async () => {
      if (this.cerPath) OutputTransaction.assertWritable([this.cerPath], ctx.options.force);
    });
    build.hooks.done.tapPromise(PLUGIN_NAME, async () => {
      if (!this.cerPath || !this.material) return;
      writeFileAtomic(this.cerPath, (await this.material).chain[0]!);
      ctx.log.write(
        "certificate",
        `registration copy ${this.cerPath} (DER): import it as the media certificate at the site`,
      );
    });
  }

  /** Reads and checks the .pfx; every problem becomes a diagnostic, never a stack trace. */
  private async importPki(
    pki: { file: string; password: SecretRef },
    ctx: BuildContext,
    now: Date,
  ): Promise<Diagnostic[]> {
    const path = "security.certificate.pki";
    let bytes: Buffer;
    try {
      bytes = await readFile(resolve(ctx.specDir, pki.file));
    } catch (e) {
      return [
        diagnostic("BM3408", `cannot read ${pki.file} (${(e as NodeJS.ErrnoException).code})`, {
          path: `${path}.file`,
        }),
      ];
    }
    try {
      const password = await resolveSecret(pki.password, ctx.specDir, ctx.redactor, `${path}.password`);
      const pfx = await readPfx(bytes, password, pki.file);
      ctx.log.write(
        "certificate",
        `imported ${pki.file}: ${pfx.certificates.length} certificates, ${pfx.privateKeys.length} key(s); ${pfx.protection.join("; ")}`,
      );
      const { material, diagnostics } = checkPkiCertificate(pfx, now, { path, source: PLUGIN_NAME });
      if (material) this.material = Promise.resolve(material);
      return diagnostics;
    } catch (e) {
      return [diagnosticFromError(e, PLUGIN_NAME, path)];
    }
  }

  private checkSelfSigned(s: { start: string; expire: string }, now: Date): Diagnostic[] {
    const path = "security.certificate.selfSigned";
    const notBefore = parseCertificateDate(s.start);
    const notAfter = parseCertificateDate(s.expire);
    const bad: Diagnostic[] = [];
    if (!notBefore)
      bad.push(diagnostic("BM3404", `start ${JSON.stringify(s.start)} is not a date`, { path: `${path}.start` }));
    if (!notAfter)
      bad.push(diagnostic("BM3404", `expire ${JSON.stringify(s.expire)} is not a date`, { path: `${path}.expire` }));
    if (!notBefore || !notAfter) return bad;
    if (notBefore.getTime() >= notAfter.getTime()) {
      return [diagnostic("BM3404", `start ${s.start} is not before expire ${s.expire}`, { path })];
    }
    this.selfSignedDates = { notBefore, notAfter };
    return checkValidity(notBefore, notAfter, now, {
      what: "the self-signed media certificate",
      path,
      source: PLUGIN_NAME,
      futureStart: "warning",
    });
  }

  private materialFor(mediaId: string, sourceDateEpoch: number): Promise<CertificateMaterial> {
    if (!this.material) {
      if (!this.selfSignedDates) throw new Error("certificate not validated");
      this.material = createSelfSignedCertificate({ mediaId, sourceDateEpoch, ...this.selfSignedDates });
    }
    return this.material;
  }
}
