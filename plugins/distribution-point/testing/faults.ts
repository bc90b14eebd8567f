/**
 * Fault injection for `serveLibrary` (tests, soak): each helper is an Intercept that
 * misbehaves for the requests it matches, a bounded number of times.
 */
import { Transform } from "node:stream";
import type { ServerResponse } from "node:http";
import type { Intercept, Intercepted } from "../server.ts";

type Match = (rel: string) => boolean;
export const endsWith =
  (suffix: string): Match =>
  (rel) =>
    rel.endsWith(suffix);

/** The first intercept that answers wins. */
export function compose(...intercepts: Intercept[]): Intercept {
  return (req, rel) => intercepts.reduce<Intercepted | undefined>((hit, i) => hit ?? i(req, rel), undefined);
}

/** Answers `status` to the first `times` matching requests (Infinity: always). */
export function failWith(status: number, match: Match, times = Infinity): Intercept {
  let left = times;
  return (_req, rel) => (match(rel) && left-- > 0 ? { status } : undefined);
}

/** Sends `bytes` bytes of the body, then drops the connection; `times` requests. */
export function dropAfter(bytes: number, match: Match, times = 1): Intercept {
  let left = times;
  return (_req, rel) => (match(rel) && left-- > 0 ? { body: (res) => cutAfter(bytes, res, "drop") } : undefined);
}

/** Sends `bytes` bytes, then goes silent (the client's idle timeout must fire). */
export function stallAfter(bytes: number, match: Match, times = 1): Intercept {
  let left = times;
  return (_req, rel) => (match(rel) && left-- > 0 ? { body: (res) => cutAfter(bytes, res, "stall") } : undefined);
}

/** Flips one bit of the first body byte of matching files (same size, wrong bytes). */
export function corrupt(match: Match): Intercept {
  return (req, rel) => {
    if (!match(rel) || req.headers.range) return undefined;
    let first = true;
    const flip = (chunk: Buffer) => {
      if (!first || chunk.length === 0) return chunk;
      first = false;
      const copy = Buffer.from(chunk);
      copy[0]! ^= 1;
      return copy;
    };
    return { body: () => new Transform({ transform: (chunk: Buffer, _e, cb) => cb(null, flip(chunk)) }) };
  };
}

/** Paces every body to about `bytesPerSecond`. */
export function throttle(bytesPerSecond: number, match: Match = () => true): Intercept {
  return (_req, rel) => {
    if (!match(rel)) return undefined;
    const start = Date.now();
    let sent = 0;
    return {
      body: () =>
        new Transform({
          highWaterMark: 16 * 1024,
          transform(chunk: Buffer, _e, cb) {
            sent += chunk.length;
            const due = start + (sent / bytesPerSecond) * 1000;
            setTimeout(() => cb(null, chunk), Math.max(0, due - Date.now()));
          },
        }),
    };
  };
}

function cutAfter(bytes: number, res: ServerResponse, how: "drop" | "stall"): Transform {
  let sent = 0;
  return new Transform({
    transform(chunk: Buffer, _e, cb) {
      const room = bytes - sent;
      if (room <= 0) return; // stalled: never call back
      const piece = chunk.subarray(0, room);
      sent += piece.length;
      if (sent < bytes) return cb(null, piece);
      this.push(piece);
      if (how === "drop") setImmediate(() => res.socket?.destroy());
    },
  });
}
