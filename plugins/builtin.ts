/**
 * The built-in features, chosen from a table (the webpack WebpackOptionsApply idea):
 * each row returns a plugin for a spec, or false when the spec does not need it.
 */
import type { Plugin } from "../core/plugin.ts";
import type { MediaSpec } from "../core/spec/schema.ts";
import { LocalLibraryPlugin } from "./content-library/content-library-plugin.ts";
import { BootImagePlugin } from "./boot-image/boot-image-plugin.ts";
import { PrestartPlugin } from "./prestart/prestart-plugin.ts";
import { MediaConfigPlugin } from "./media-config/media-config-plugin.ts";
import { MediaManifestPlugin } from "./media-manifest/media-manifest-plugin.ts";
import { PasswordPlugin } from "./password/password-plugin.ts";
import { SecretsPlugin } from "./secrets/secrets-plugin.ts";
import { CertificatePlugin } from "./certificates/certificate-plugin.ts";
import { DirectoryWriterPlugin } from "./directory/directory-plugin.ts";
import { UsbPlugin } from "./usb/usb-plugin.ts";
import { IsoPlugin } from "./iso/iso-plugin.ts";
import { DistributionPointPlugin } from "./distribution-point/distribution-point-plugin.ts";
import { isRemoteLibrary } from "./distribution-point/library-ref.ts";

export const BUILTIN: Array<(spec: MediaSpec) => Plugin | false> = [
  () => new LocalLibraryPlugin(),
  (spec) => isRemoteLibrary(spec.contentLibrary) && new DistributionPointPlugin(),
  () => new BootImagePlugin(),
  (spec) => spec.customization.prestart !== undefined && new PrestartPlugin(),
  () => new PasswordPlugin(),
  () => new SecretsPlugin(),
  (spec) => spec.security.certificate !== undefined && new CertificatePlugin(),
  () => new MediaConfigPlugin(),
  () => new MediaManifestPlugin(),
  (spec) => spec.target.type === "directory" && new DirectoryWriterPlugin(),
  (spec) => spec.target.type === "usb" && new UsbPlugin(),
  (spec) => spec.target.type === "iso" && new IsoPlugin(),
];

export function builtinPlugins(spec: MediaSpec): Plugin[] {
  return BUILTIN.map((row) => row(spec)).filter((p): p is Plugin => p !== false);
}
