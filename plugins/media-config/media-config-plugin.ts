/**
 * Records the deployment settings on the media (bootmedia/media.json + media.env) and in
 * the build log: task sequence, management points, unattended, unknown computers, user
 * device affinity, variables, and the prestart command the prestart plugin put into the
 * layout's config. Runs last in layout (LAYOUT_STAGE.CONFIG). The password verifier, the
 * secret part and the certificate are plugins of their own (plugins/password,
 * plugins/secrets, plugins/certificates); they set their config keys (password, secrets,
 * secretVariables, certificate) at LAYOUT_STAGE.SETTINGS and SECRETS, before this renders media.json.
 */
import { diagnostic } from "../../base/diagnostics.ts";
import { LAYOUT_STAGE } from "../../core/hooks.ts";
import type { Plugin, PluginBuild } from "../../core/plugin.ts";
import type { MediaSpec } from "../../core/spec-schema.ts";
import { CONFIG_ENV, CONFIG_JSON, renderConfigEnv, renderConfigJson } from "../../core/media-config.ts";
import { checkManagementPoints, orderedManagementPoints } from "./management-points.ts";
import "./codes.ts";
import { MANAGEMENT_POINTS, UNATTENDED, UNKNOWN_COMPUTERS, USER_DEVICE_AFFINITY, VARIABLES } from "./spec.ts";
import { PASSWORD } from "../../core/media-password.ts";

const PLUGIN_NAME = "MediaConfigPlugin";

/** The task-sequence variable the user-device-affinity setting becomes. */
export const UDA_VARIABLE = {
  name: "SMSTSAssignUsersMode",
  value: { auto: "Auto", pending: "Pending", none: "Disabled" },
} as const;

export class MediaConfigPlugin implements Plugin {
  readonly name = PLUGIN_NAME;

  apply(build: PluginBuild): void {
    const { log } = build.context;
    build.hooks.validate.tapPromise(PLUGIN_NAME, async (media, reporter) => {
      for (const d of checkManagementPoints(media.spec)) reporter.report({ ...d, source: PLUGIN_NAME });
      if (!PASSWORD.of(media.spec)) {
        reporter.report(
          diagnostic("BM3010", "the media has no password: anyone who finds it can start a deployment", {
            severity: "warning",
            path: "security.password",
            source: PLUGIN_NAME,
          }),
        );
      }
    });

    build.hooks.layout.tapPromise({ name: PLUGIN_NAME, stage: LAYOUT_STAGE.CONFIG }, async (layout, media) => {
      const spec = media.spec;
      const variables = plainVariables(spec);
      variables[UDA_VARIABLE.name] = UDA_VARIABLE.value[USER_DEVICE_AFFINITY.of(spec)];
      const mps = orderedManagementPoints(spec);
      Object.assign(layout.config, {
        createdAt: new Date(build.context.options.sourceDateEpoch * 1000).toISOString(),
        unattended: UNATTENDED.of(spec),
        unknownComputers: UNKNOWN_COMPUTERS.of(spec),
        userDeviceAffinity: USER_DEVICE_AFFINITY.of(spec),
        managementPoints: { mode: MANAGEMENT_POINTS.of(spec)?.mode ?? "site-based", list: mps },
        variables,
      });
      const env = {
        BM_MEDIA_ID: spec.name,
        BM_TASK_SEQUENCE: spec.taskSequence,
        BM_MP_MODE: MANAGEMENT_POINTS.of(spec)?.mode ?? "site-based",
        BM_MPS: mps.map((m) => m.url).join(" "),
        BM_UNATTENDED: String(UNATTENDED.of(spec)),
        BM_UNKNOWN_COMPUTERS: String(UNKNOWN_COMPUTERS.of(spec)),
        BM_UDA: USER_DEVICE_AFFINITY.of(spec),
        BM_IMAGES: layout.config.images.map((i) => i.arch).join(" "),
        BM_PRESTART_COMMAND: layout.config.prestart?.command ?? "",
        // Only on stand-alone media (docs/standalone-media.md): bootable media stay byte for byte as they were.
        ...(spec.mediaType === "standalone" ? { BM_MEDIA_TYPE: "standalone" } : {}),
      };
      const volume = layout.volumes[0]!;
      for (const [path, text] of [
        [CONFIG_JSON, renderConfigJson(layout.config)],
        [CONFIG_ENV, renderConfigEnv(env)],
      ] as const) {
        const data = new TextEncoder().encode(text);
        volume.entries.push({ type: "file", path, size: data.length, source: { kind: "bytes", data } });
      }
      log.write(
        "config",
        `task sequence ${spec.taskSequence}; management points (${env.BM_MP_MODE}): ${mps.map((m) => `${m.url} [${m.priority}]`).join(", ") || "none"}`,
      );
      log.write(
        "config",
        `unattended=${UNATTENDED.of(spec)} unknownComputers=${UNKNOWN_COMPUTERS.of(spec)} userDeviceAffinity=${USER_DEVICE_AFFINITY.of(spec)}`,
      );
      for (const [k, v] of Object.entries(variables)) log.write("config", `variable ${k}=${v}`);
      return layout;
    });
  }
}

function plainVariables(spec: MediaSpec): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(VARIABLES.of(spec))) if (typeof v === "string") out[k] = v;
  return out;
}
