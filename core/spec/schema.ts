/**
 * The media spec: ONE zod schema, the single source for validation, the CLI flags that
 * mirror it (meta `flag`) and docs/spec.md (generated from it by core/spec/docs.ts).
 * Meta keys: `description` (one line), `flag` (CLI flag that sets it), `codes` (the
 * error codes this option can raise), `example`.
 */
import { z } from "zod";
import { ARCHES } from "../compat.ts";

/** `{ env: NAME }` or `{ file: path }`; an inline string is BM1006, never accepted. */
/** A portable environment variable name (POSIX: letters, digits, underscore). */
export const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

export const secretRef = (description: string, flag: string, codes: string[] = []) =>
  z
    .unknown()
    .superRefine((value, ctx) => {
      if (typeof value === "string" || typeof value === "number") {
        ctx.addIssue({
          code: "custom",
          message: "secrets are accepted only by reference; an inline value would sit in clear in the spec file",
          params: { bm: "BM1006" },
        });
        return;
      }
      const ok =
        typeof value === "object" && value !== null && Object.keys(value).length === 1 &&
        (typeof (value as { env?: unknown }).env === "string" || typeof (value as { file?: unknown }).file === "string");
      if (!ok) ctx.addIssue({ code: "custom", message: "expected { env: NAME } or { file: path }", params: { bm: "BM1003" } });
      // Not echoed: what stands where a name belongs is most likely the secret itself.
      else if ("env" in (value as object) && !ENV_NAME.test((value as { env: string }).env)) {
        ctx.addIssue({ code: "custom", message: "env must name an environment variable (letters, digits, _; not starting with a digit); the value given is not shown, as it may be the secret itself", params: { bm: "BM1006" } });
      }
    })
    .transform((v) => v as SecretRef)
    .meta({ description, flag, type: "secret", codes: ["BM1006", "BM1007", ...codes] });

export type SecretRef = { env: string } | { file: string };

export const TARGET_TYPES = ["directory", "iso", "usb"] as const;
export const CAPACITIES = ["cd650", "cd700", "dvd", "dvd-dl", "bd25", "unlimited"] as const;
export const MP_MODES = ["dynamic", "site-based"] as const;
export const UDA_MODES = ["auto", "pending", "none"] as const;

const packageId = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/, "a package id: letters, digits, . _ -");

const target = z
  .object({
    type: z.enum(TARGET_TYPES).meta({ description: "Media type: a folder tree, a CD/DVD set (.iso files) or a USB drive/image", flag: "target", codes: ["BM3005"] }),
    output: z.string().min(1).meta({ description: "Output path: folder (directory), .iso file (iso), image file or /dev/sdX (usb); relative to the spec file", flag: "out", codes: ["BM1010", "BM3301", "BM3302", "BM3303", "BM3304", "BM3305", "BM3307", "BM4301"] }),
    capacity: z
      .union([z.enum(CAPACITIES), z.number().int().positive()])
      .optional()
      .meta({ description: "ISO capacity per volume (cd650|cd700|dvd|dvd-dl|bd25|unlimited or bytes); content that does not fit is split into numbered volumes", flag: "capacity", codes: ["BM3110"] }),
    size: z.string().regex(/^\d+(\.\d+)?\s*(B|K|KiB|M|MiB|G|GiB)?$/i).optional().meta({ description: "USB image size (e.g. 2GiB); default: fits the content", flag: "size", codes: ["BM3201", "BM3202"] }),
  })
  .strict();

const managementPoint = z
  .object({
    url: z.string().meta({ description: "Management point URL (http or https)" }),
    priority: z.number().int().min(1).optional().meta({ description: "Order of first contact, 1 first (dynamic media)" }),
  })
  .strict();

const variableValue = z.union([
  z.string(),
  z.object({ value: secretRef("A secret variable value, by reference: encrypted into bootmedia/secrets.enc, *** in logs", "", ["BM3402"]), secret: z.literal(true) }).strict(),
]);

/** Exactly one certificate mode; both are optional objects so each field has its own CLI flag. */
const certificate = z
  .object({
    selfSigned: z
      .object({
        start: z.coerce.string().meta({ description: "Self-signed certificate: first valid day (YYYY-MM-DD, UTC, or ISO 8601 date-time)", flag: "cert-start", codes: ["BM3404", "BM3407"] }),
        expire: z.coerce.string().meta({ description: "Self-signed certificate: expiry (YYYY-MM-DD, UTC, or ISO 8601 date-time); after start, not past, >30 days away", flag: "cert-expire", codes: ["BM3404", "BM3405", "BM3406"] }),
      })
      .strict()
      .optional()
      .meta({ description: "Self-signed media certificate (ECDSA P-256, client authentication); its key is encrypted in the secret part", codes: ["BM3402"] }),
    pki: z
      .object({
        file: z.string().min(1).meta({ description: "PKI client certificate: .pfx/.p12 with private key and chain, relative to the spec", flag: "pfx", codes: ["BM3408", "BM3409", "BM3410", "BM3411", "BM3412", "BM3413"] }),
        password: secretRef("PFX password, by reference", "pfx-password", ["BM3408"]),
      })
      .strict()
      .optional()
      .meta({ description: "Imported PKI media certificate; its key is encrypted in the secret part", codes: ["BM3402", "BM3405", "BM3407"] }),
  })
  .strict()
  .superRefine((v, ctx) => {
    if ((v.selfSigned ? 1 : 0) + (v.pki ? 1 : 0) !== 1) ctx.addIssue({ code: "custom", message: "give exactly one of selfSigned or pki" });
  });

const locations = z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]);

/** A folder, `embedded`, a distribution point URL, a fallback list of URLs, or the object form (plugins/distribution-point). */
const contentLibrary = z.union([
  z.string().min(1),
  z.array(z.string().min(1)).min(1),
  z
    .object({
      urls: locations.meta({ description: "Distribution point URL(s), tried in order" }),
      auth: z
        .union([
          z.object({ bearer: secretRef("Bearer token, by reference", "") }).strict(),
          z.object({ basic: z.object({ user: z.string().min(1), password: secretRef("Password, by reference", "") }).strict() }).strict(),
        ])
        .optional()
        .meta({ description: "Credentials for the distribution points: { bearer: {env|file} } or { basic: { user, password: {env|file} } }" }),
      clientCert: z
        .object({ cert: z.string().min(1).meta({ description: "Client certificate (PEM), relative to the spec" }), key: z.string().min(1).meta({ description: "Its private key (PEM), relative to the spec" }) })
        .strict()
        .optional()
        .meta({ description: "TLS client certificate for distribution points that require one" }),
      caFile: z.string().min(1).optional().meta({ description: "CA certificate(s) (PEM) that sign the distribution points' TLS certificates, relative to the spec", flag: "ca-file", codes: ["BM2103", "BM2106"] }),
    })
    .strict()
    // A flag that sets a field of this object turns a shorthand (URL or list) into { urls }.
    .meta({ shorthand: "urls" }),
]);

export const mediaSpecSchema = z
  .object({
    name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/, "letters, digits, . _ - (max 64)").meta({ description: "Media name: its id on the media and in logs", flag: "name", example: "contoso-x64" }),
    bootImage: z
      .union([packageId, z.array(packageId).min(1)])
      .meta({ description: "Boot-image package id(s) in the content library; several put images of both architectures on one media", flag: "boot-image", codes: ["BM2002", "BM3002", "BM3003"] }),
    taskSequence: packageId.meta({ description: "Task sequence the booted machine asks the management point for", flag: "task-sequence" }),
    contentLibrary: contentLibrary
      .default("embedded")
      .meta({ description: "Content library: a folder laid out as docs/content-library.md describes (relative to the spec file), `embedded` for the sample library shipped with bootmedia, a distribution point URL, a list of them (tried in order), or the object form with auth and TLS settings", flag: "content-library", codes: ["BM2001", "BM2101", "BM2102", "BM2105"] }),
    target: target.meta({ description: "What to write" }),
    unattended: z.boolean().default(false).meta({ description: "Allow unattended deployment: no prompts except the media password", flag: "unattended" }),
    managementPoints: z
      .object({
        mode: z.enum(MP_MODES).meta({ description: "dynamic: list in priority order, an MP may redirect; site-based: exactly one MP", flag: "mode", codes: ["BM3009"] }),
        list: z.array(managementPoint).min(1).meta({ description: "Management points", flag: "mp", codes: ["BM3009"] }),
      })
      .strict()
      .optional()
      .meta({ description: "Management points the booted machine contacts" }),
    security: z
      .object({
        unknownComputers: z.boolean().default(false).meta({ description: "Enable unknown computer support", flag: "unknown-computers" }),
        password: secretRef("Media password, by reference (>= 12 characters, 3 of 4 classes; the media holds only a SHA-512-crypt verifier)", "password", ["BM3401", "BM3010"]),
        certificate: certificate.meta({ description: "Media certificate: self-signed (start/expire dates) or an imported PKI .pfx (exactly one); needs a media password" }),
        userDeviceAffinity: z.enum(UDA_MODES).default("none").meta({ description: "User device affinity: auto | pending | none", flag: "uda" }),
      })
      .partial({ password: true, certificate: true })
      .strict()
      .default({ unknownComputers: false, userDeviceAffinity: "none" })
      .meta({ description: "Security settings" }),
    customization: z
      .object({
        variables: z
          .record(z.string().regex(/^_?[A-Za-z][A-Za-z0-9_]{0,127}$/, "a letter, then letters, digits or _ (max 128); a leading _ is read-only (BM3403)"), variableValue)
          .default({})
          .meta({ description: "Task-sequence variables (NAME: value, or { value: {env|file}, secret: true }); names: a letter, then letters, digits or _ (max 128); a leading _ is read-only", flag: "var", codes: ["BM1006", "BM3402", "BM3403"] }),
        prestart: z
          .object({
            command: z.string().min(1).meta({ description: "Prestart command line, run before contacting a management point", flag: "prestart-command" }),
            files: z.string().optional().meta({ description: "Folder copied to the media as the prestart files (bootmedia/prestart/), relative to the spec", flag: "prestart-files", codes: ["BM1003"] }),
          })
          .strict()
          .optional()
          .meta({ description: "Prestart command and its files: the boot environment runs the command before contacting a management point" }),
      })
      .strict()
      .default({ variables: {} })
      .meta({ description: "Customization" }),
    machines: z
      .array(
        z
          .object({
            arch: z.enum(ARCHES).meta({ description: "Machine CPU: x86 (32-bit only) or x64" }),
            firmware: z.enum(["bios", "uefi"]).meta({ description: "Machine firmware" }),
            nic: z.string().optional().meta({ description: "Kernel driver the machine's NIC needs (e.g. e1000, virtio_net)" }),
          })
          .strict(),
      )
      .default([])
      .meta({ description: "Machines the media must boot on; the validator checks the boot images against the compatibility rules", flag: "machine", codes: ["BM3003", "BM3004", "BM3007"] }),
    plugins: z.array(z.string()).default([]).meta({ description: "Third-party plugins: paths relative to the spec, or package names", flag: "plugin", codes: ["BM1008"] }),
  })
  .strict();

/** The spec as written (defaults optional). */
export type MediaSpecInput = z.input<typeof mediaSpecSchema>;
/** The spec after validation and defaults. */
export type MediaSpec = z.output<typeof mediaSpecSchema>;
export { ARCHES };
