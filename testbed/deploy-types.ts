/** What a deploy case is given and what its report holds (deploy-case.ts runs it). */
import type { Marker } from "./markers.ts";
import type { CaseStatusEvent, StartedCaseMps } from "./mp-case.ts";
import type { CaseDisk } from "./deploy-disk.ts";
import type { CaseDistributionPoint, DpWrap } from "./deploy-dps.ts";

/** A deploy moves an image under software emulation: its boots get longer than a media boot's 180 s. */
export const DEPLOY_TIMEOUTS = { mediaSec: 900, installedSec: 300 } as const;

export interface CaseDeploy {
  /** The blank disk; null: the machine has none (the engine must refuse before writing anything). */
  disk: CaseDisk | null;
  distributionPoints: CaseDistributionPoint[];
  /** The policy's computer name: the installed OS's hostname; null: the boot environment's MININT-… name. */
  computer: string | null;
  deploymentId: string;
  /**
   * Stand-alone media: no MPs or DPs, the deployment is the media's (their id); the case passes
   * on the installed OS's marker naming it. USB media boot as a writable copy whose logs/
   * folder is kept in the case folder (media-logs/).
   */
  standalone?: boolean;
  /** Seconds the first boot may take, media to restart (default: the run's, at least DEPLOY_TIMEOUTS.mediaSec). */
  mediaBootSec?: number;
  /** Seconds the second boot may take to the installed OS's marker (default DEPLOY_TIMEOUTS.installedSec). */
  installedBootSec?: number;
  /** Keep the disk as `disk.raw` in the case folder (tests read it with sgdisk and fsck). */
  keepDisk?: boolean;
  /**
   * An outage: the case's MPs stop once the first boot has its policy and start again (the same
   * addresses and state) `backAfterSec` seconds after the installed OS's marker, so the engine
   * and the installed OS must keep what they could not deliver and deliver it later.
   */
  mpOutage?: { backAfterSec: number };
  /** A test's hook between the guest and each DP (fault injection). */
  dpWrap?: DpWrap;
  /** Called with the running MPs once the first boot has the policy (a test stops an MP there). */
  afterPolicy?: (mps: StartedCaseMps) => Promise<void>;
  /**
   * Finds the installed OS's `deployed` at an MP the testbed did not start (`mp serve` of the
   * user's, read from its state dir); the testbed's own MPs are asked directly.
   */
  deployedAt?: () => Promise<CaseStatusEvent | undefined>;
  /** Called before the second boot (a test brings the MP back there). */
  beforeInstalledBoot?: (mps: StartedCaseMps) => Promise<void>;
  /**
   * The boot from the disk is photographed (screen-2.png) once this text shows on the serial
   * line after `deployed`, and 2 s more, or after `withinSec`: the installed system's login
   * screen rather than its boot messages (the demo's picture). Milestone `screen`.
   */
  installedScreenAfter?: { serial: RegExp; withinSec: number };
}

/** One boot of a deploy case, for the report. */
export interface DeployBoot {
  what: "media" | "disk";
  /** Relative to the report folder. */
  serialLog: string;
  screenshot: string | null;
  /** The last screen as VGA text (relative), in text mode only (BIOS). */
  screenText?: string;
  exitStatus: number | null;
  /** Milliseconds from this boot's power-on to each milestone seen. */
  milestones: Record<string, number>;
}

export interface CaseDeployReport {
  disk: CaseDisk | null;
  boots: DeployBoot[];
  /** The installed OS's marker. */
  installed?: Marker;
  /** The `deployed` event the MP stored for this run. */
  deployed?: CaseStatusEvent;
  /** The DPs' request lines (method, path, status, bytes). */
  dpRequests: string[];
  /** The disk kept for checks (relative to the report folder). */
  diskFile?: string;
  /** Stand-alone USB media: the files of the media's logs/ folder after the deploy (relative). */
  mediaLogs?: string[];
  /** Stand-alone USB media with a kept disk: the media as the machine left them (relative). */
  mediaFile?: string;
}
