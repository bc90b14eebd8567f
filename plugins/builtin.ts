/**
 * The built-in features, chosen from a table (the webpack WebpackOptionsApply idea). Each
 * is declared through the same door as a third-party plugin (core/plugin.ts), in its folder.
 */
import { resolveLazy, type Inspector, type PluginDefinition } from "../core/plugin.ts";
import { PluginSet } from "../core/plugin-set.ts";
import contentLibrary from "./content-library/index.ts";
import distributionPoint from "./distribution-point/index.ts";
import bootImage from "./boot-image/index.ts";
import bootLoader from "./boot-loader/index.ts";
import prestart from "./prestart/index.ts";
import secureBoot from "./secure-boot/index.ts";
import password from "./password/index.ts";
import secrets from "./secrets/index.ts";
import certificates from "./certificates/index.ts";
import mediaConfig from "./media-config/index.ts";
import mediaManifest from "./media-manifest/index.ts";
import sbom from "./sbom/index.ts";
import standalone from "./standalone/index.ts";
import directory from "./directory/index.ts";
import usb from "./usb/index.ts";
import iso from "./iso/index.ts";

/** In the order they tap (taps of the same stage run in this order) and `inspect` asks them. */
export const BUILTIN_PLUGINS: ReadonlyArray<PluginDefinition<unknown>> = [
  contentLibrary,
  distributionPoint,
  bootImage,
  bootLoader,
  secureBoot,
  prestart,
  password,
  secrets,
  certificates,
  mediaConfig,
  mediaManifest,
  sbom,
  standalone,
  directory,
  iso,
  usb,
] as ReadonlyArray<PluginDefinition<unknown>>;

/** The built-ins' media readers, in the order `inspect` tries them. */
export async function builtinInspectors(): Promise<Inspector[]> {
  const out: Inspector[] = [];
  for (const d of BUILTIN_PLUGINS) if (d.inspector) out.push(await resolveLazy(d.inspector));
  return out;
}

/** The built-ins alone, composed (docs, help, programs and tests that load no third-party plugin). */
export function builtinPluginSet(): PluginSet {
  return new PluginSet(BUILTIN_PLUGINS);
}
