/**
 * Stand-alone media (`mediaType: standalone`) carry the task sequence's steps: the content
 * library's resolve tap reads them from the task-sequence package's steps.yaml (and adds every
 * package they use); the stand-alone plugin lays them out. Kept beside the media they belong to.
 */
import type { ResolvedMedia } from "../types.ts";
import type { Step } from "./steps.ts";

const steps = new WeakMap<ResolvedMedia, Step[]>();

export function setMediaSteps(media: ResolvedMedia, value: Step[]): void {
  steps.set(media, value);
}

/** The steps of stand-alone media; undefined on bootable media, or when no resolve tap read them. */
export const mediaSteps = (media: ResolvedMedia): Step[] | undefined => steps.get(media);
