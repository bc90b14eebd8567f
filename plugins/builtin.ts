/**
 * The built-in features, chosen from a table (the webpack WebpackOptionsApply idea):
 * each row returns a plugin for a spec, or false when the spec does not need it.
 */
import type { Plugin } from "../core/plugin.ts";
import type { MediaSpec } from "../core/spec/schema.ts";
import { LocalLibraryPlugin } from "./content-library/LocalLibraryPlugin.ts";
import { BootImagePlugin } from "./boot-image/BootImagePlugin.ts";
import { PrestartPlugin } from "./prestart/PrestartPlugin.ts";
import { MediaConfigPlugin } from "./media-config/MediaConfigPlugin.ts";
import { PasswordPlugin } from "./password/PasswordPlugin.ts";
import { SecretsPlugin } from "./secrets/SecretsPlugin.ts";
import { CertificatePlugin } from "./certificates/CertificatePlugin.ts";
import { DirectoryWriterPlugin } from "./directory/DirectoryWriterPlugin.ts";
import { UsbPlugin } from "./usb/UsbPlugin.ts";
import { IsoPlugin } from "./iso/IsoPlugin.ts";
import { DistributionPointPlugin } from "./distribution-point/DistributionPointPlugin.ts";
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
  (spec) => spec.target.type === "directory" && new DirectoryWriterPlugin(),
  (spec) => spec.target.type === "usb" && new UsbPlugin(),
  (spec) => spec.target.type === "iso" && new IsoPlugin(),
];

export function builtinPlugins(spec: MediaSpec): Plugin[] {
  return BUILTIN.map((row) => row(spec)).filter((p): p is Plugin => p !== false);
}
