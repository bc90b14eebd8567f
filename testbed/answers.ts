/**
 * What the testbed types at the boot environment's prompts. A prompt is a marker
 * `{"event":"prompt","for":KEY,...}`; the answers for KEY are typed one per prompt, in
 * order, followed by a newline, into the guest's serial port. A prompt with no answer
 * left gets none: the guest's own timeout decides (a password prompt stops, other
 * prompts take their default), which is how cases show the timeout behaviour.
 */
import { BootmediaError } from "../base/errors.ts";
import type { Marker } from "./markers.ts";
import "./codes.ts";

/** Answers by prompt kind (`for`), in the order the prompts come, e.g. `{ password: ["wrong", "right"] }`. */
export type PromptAnswers = Readonly<Record<string, readonly string[]>>;

const PROMPT_EVENT = "prompt";

/**
 * Used for media given without answers: Enter at once on the interactive questions, which
 * takes their defaults (DHCP, the media's task sequence) instead of waiting for their
 * timeout on every case. Never a password: a media with one needs answers of its own.
 */
export const DEFAULT_ANSWERS: PromptAnswers = Object.freeze({ network: [""], "task-sequence": [""] });

/** Rejects answers that could not be typed as one line (a newline would answer two prompts). */
export function checkAnswers(answers: PromptAnswers): PromptAnswers {
  for (const [key, list] of Object.entries(answers)) {
    for (const [i, text] of list.entries()) {
      if (/[\r\n]/.test(text)) {
        throw new BootmediaError("BM5009", `answer ${i + 1} for prompt "${key}" holds a line break`, { where: key });
      }
    }
  }
  return answers;
}

/** Hands out one case's answers as its prompts arrive; never logs what it types. */
export class PromptResponder {
  private readonly next = new Map<string, number>();
  /** Prompts seen, by kind, and whether each got an answer (for reports; no answer text). */
  readonly log: Array<{ for: string; answered: boolean }> = [];

  constructor(private readonly answers: PromptAnswers = {}) {
    checkAnswers(answers);
  }

  /** The bytes to type for this marker, or undefined when it is no prompt or nothing is left. */
  answerFor(marker: Marker): string | undefined {
    if (marker.event !== PROMPT_EVENT || typeof marker.for !== "string") return undefined;
    const key = marker.for;
    const index = this.next.get(key) ?? 0;
    const text = Object.hasOwn(this.answers, key) ? this.answers[key]![index] : undefined;
    this.log.push({ for: key, answered: text !== undefined });
    if (text === undefined) return undefined;
    this.next.set(key, index + 1);
    return `${text}\n`;
  }
}
