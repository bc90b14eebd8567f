/**
 * The plugins of one build: the built-ins and the spec's own, composed into one spec model
 * (schema, flags, docs) and, once the spec is valid, into the plugin instances that tap it.
 */
import { DiagnosticsError, diagnostic } from "../base/diagnostics.ts";
import { BootmediaError } from "../base/errors.ts";
import { loadPlugins, pluginRefs, type LoadedPlugin, type PluginRef } from "./load-plugins.ts";
import { isEnabled, registerPluginCodes, type Plugin, type PluginDefinition } from "./plugin.ts";
import { enterPlugin } from "./plugin-activity.ts";
import { createSpecModel, type SpecModel } from "./spec-model.ts";
import { TARGET_WRITES, type MediaSpec, type PluginEntry, type TargetType } from "./spec-schema.ts";
import { RESERVED_TARGET_FIELDS } from "./target.ts";
import "./codes.ts";

export class PluginSet {
  readonly model: SpecModel;

  constructor(
    readonly builtins: ReadonlyArray<PluginDefinition<unknown>>,
    readonly thirdParty: LoadedPlugin[] = [],
  ) {
    for (const d of builtins) registerPluginCodes(d, true);
    for (const p of thirdParty) {
      try {
        registerPluginCodes(p.definition, false);
      } catch (e) {
        throw new BootmediaError("BM1008", (e as Error).message, { where: p.ref.ref });
      }
    }
    const all = [...builtins, ...thirdParty.map((p) => p.definition)];
    const names = new Set<string>();
    for (const d of all) {
      if (names.has(d.name)) throw new BootmediaError("BM1008", `two plugins are named "${d.name}"`, { where: d.name });
      names.add(d.name);
      for (const t of d.targets ?? []) checkTargetDeclaration(d.name, t);
    }
    this.model = createSpecModel(
      all.map((d) => ({ plugin: d.name, sections: [...(d.sections ?? [])], targets: [...(d.targets ?? [])] })),
      thirdParty
        .filter((p) => p.definition.options && p.ref.index !== undefined)
        .map((p) => ({ plugin: p.definition.name, index: p.ref.index!, schema: p.definition.options! })),
    );
  }

  /** Built-ins plus the plugins a raw spec's `plugins:` (and --plugin) name. */
  static async forRawSpec(
    builtins: ReadonlyArray<PluginDefinition<unknown>>,
    raw: Record<string, unknown>,
    specDir: string,
    cliPlugins: string[] = [],
  ): Promise<PluginSet> {
    const refs: PluginRef[] = pluginRefs(raw.plugins, specDir, cliPlugins);
    // A plugin that takes options gets its entry in object form, so flags can fill it in.
    const set = new PluginSet(builtins, await loadPlugins(refs));
    if (Array.isArray(raw.plugins)) {
      raw.plugins = (raw.plugins as unknown[]).map((e, i) =>
        typeof e === "string" && set.model.pluginOptions.some((p) => p.index === i) ? { use: e } : e,
      );
    }
    return set;
  }

  /** The declaration of a target type (what it writes, whether it writes drives); BM3005 when no plugin in use writes it. */
  targetType(type: string): TargetType {
    const found = this.definitions.flatMap((d) => d.targets ?? []).find((t) => t.type === type);
    if (!found)
      throw new BootmediaError("BM3005", `no plugin writes targets of type "${type}"`, { where: "target.type" });
    return found;
  }

  /** Every definition in use, built-ins first. */
  get definitions(): Array<PluginDefinition<unknown>> {
    return [...this.builtins, ...this.thirdParty.map((p) => p.definition)];
  }

  /** The plugin instances for a valid spec: the built-ins it needs, then every third-party plugin. */
  async instances(spec: MediaSpec): Promise<Plugin[]> {
    const out: Plugin[] = [];
    for (const d of this.builtins) if (isEnabled(d, spec)) out.push(await d.create(undefined, spec));
    for (const p of this.thirdParty) {
      const leave = enterPlugin({ plugin: p.definition.name, hook: "create" });
      try {
        out.push(await p.definition.create(this.optionsOf(p, spec), spec));
      } finally {
        leave();
      }
    }
    return out;
  }

  private optionsOf(p: LoadedPlugin, spec: MediaSpec): unknown {
    const entry = p.ref.index === undefined ? undefined : (spec.plugins[p.ref.index] as PluginEntry | undefined);
    const given = entry && typeof entry === "object" ? entry.options : undefined;
    if (!p.definition.options) return given;
    const r = p.definition.options.safeParse(given ?? {});
    if (r.success) return r.data;
    const where = `plugins[${p.ref.index ?? "--plugin"}].options`;
    throw new DiagnosticsError(
      r.error.issues.map((i) =>
        diagnostic("BM1003", `plugin ${p.definition.name}: ${[where, ...i.path.map(String)].join(".")}: ${i.message}`, {
          path: where,
        }),
      ),
    );
  }
}

/** A target type says what it writes, and its options keep clear of the target's own fields. */
function checkTargetDeclaration(plugin: string, t: TargetType): void {
  if (!(TARGET_WRITES as readonly unknown[]).includes(t.writes)) {
    throw new BootmediaError(
      "BM1008",
      `plugin ${plugin}: target type "${t.type}" does not say what it writes (writes: ${TARGET_WRITES.map((w) => `"${w}"`).join(" or ")}; defineTargetType(type, { description, writes }, options))`,
      { where: plugin },
    );
  }
  const clash = Object.keys(t.options ?? {}).filter((k) => (RESERVED_TARGET_FIELDS as readonly string[]).includes(k));
  if (clash.length > 0) {
    throw new BootmediaError(
      "BM1008",
      `plugin ${plugin}: target type "${t.type}" has options named ${clash.join(", ")}, which the target itself uses (${RESERVED_TARGET_FIELDS.join(", ")}); rename them`,
      { where: plugin },
    );
  }
}
