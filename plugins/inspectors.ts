/**
 * Readers for `bootmedia inspect`, tried in order; the first whose detect() accepts the
 * path reads it. Each format plugin contributes its reader here.
 */
import { directoryInspector } from "./directory/inspect.ts";
import { usbInspector } from "./usb/inspect.ts";
import { isoInspector } from "./iso/inspect.ts";

export interface InspectReport {
  kind: string;
  path: string;
  [key: string]: unknown;
}

export interface Inspector {
  detect(path: string): Promise<boolean>;
  inspect(path: string): Promise<InspectReport>;
  format(report: InspectReport): string;
}

export const INSPECTORS: Inspector[] = [directoryInspector, isoInspector, usbInspector];
