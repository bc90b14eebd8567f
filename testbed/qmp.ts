/**
 * A small QMP client (QEMU Machine Protocol, docs/interop/qmp-spec) over a UNIX socket:
 * greeting + `qmp_capabilities`, then JSON commands matched to replies by `id`, and events.
 */
import { connect as connectSocket, type Socket } from "node:net";
import { EventEmitter } from "node:events";
import { setTimeout as sleep } from "node:timers/promises";
import { BootmediaError } from "../base/errors.ts";
import "./codes.ts";

export interface QmpEvent {
  event: string;
  data?: Record<string, unknown>;
  timestamp?: { seconds: number; microseconds: number };
}

interface Pending {
  resolve: (value: unknown) => void;
  reject: (error: Error) => void;
  command: string;
}

export class QmpClient {
  /** Emits "event" (QmpEvent) and "close". */
  readonly events = new EventEmitter();
  greeting: Record<string, unknown> | undefined;
  private buffer = "";
  private nextId = 1;
  private readonly pending = new Map<string, Pending>();
  private greeted?: (g: Record<string, unknown>) => void;
  private closed = false;

  private constructor(private readonly socket: Socket) {
    socket.setEncoding("utf8");
    socket.on("data", (chunk: string) => this.receive(chunk));
    socket.on("close", () => this.shutdown(new BootmediaError("BM5103", "QMP connection closed")));
    socket.on("error", () => undefined); // "close" follows and rejects what is pending
  }

  /** Connects, retrying while QEMU has not created the socket yet, and negotiates capabilities. */
  static async connect(path: string, opts: { timeoutMs?: number; signal?: AbortSignal } = {}): Promise<QmpClient> {
    const deadline = Date.now() + (opts.timeoutMs ?? 5000);
    for (;;) {
      opts.signal?.throwIfAborted();
      try {
        const socket = await openSocket(path);
        const client = new QmpClient(socket);
        await client.negotiate(Math.max(500, deadline - Date.now()));
        return client;
      } catch (error) {
        if (Date.now() >= deadline || opts.signal?.aborted) {
          throw new BootmediaError("BM5102", `cannot open QMP socket ${path}: ${(error as Error).message}`, {
            where: path,
            cause: error,
          });
        }
        await sleep(50);
      }
    }
  }

  private async negotiate(timeoutMs: number): Promise<void> {
    const greeting = await withTimeout(
      new Promise<Record<string, unknown>>((resolve) => (this.greeted = resolve)),
      timeoutMs,
      "no QMP greeting",
    ).catch((e) => {
      this.socket.destroy();
      throw e;
    });
    this.greeting = greeting;
    await this.execute("qmp_capabilities");
  }

  /** Runs a command; resolves with its `return` value, rejects with QEMU's error text. */
  execute<T = unknown>(command: string, args?: Record<string, unknown>): Promise<T> {
    if (this.closed) return Promise.reject(new BootmediaError("BM5103", `QMP ${command}: connection closed`));
    const id = `bm-${this.nextId++}`;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject, command });
      this.socket.write(
        JSON.stringify(args ? { execute: command, arguments: args, id } : { execute: command, id }) + "\n",
      );
    });
  }

  /** Saves the current screen; QEMU 7.1+ writes PNG itself. */
  async screendump(filename: string): Promise<void> {
    await this.execute("screendump", { filename, format: "png" });
  }

  /** Copies guest physical memory to a file (QEMU writes it; MMIO such as the VGA window reads as the guest would). */
  async pmemsave(address: number, size: number, filename: string): Promise<void> {
    await this.execute("pmemsave", { val: address, size, filename });
  }

  /** Presses keys together, e.g. ["ctrl", "alt", "delete"] (QKeyCode names). */
  async sendKey(keys: string[], holdTimeMs?: number): Promise<void> {
    await this.execute("send-key", {
      keys: keys.map((k) => ({ type: "qcode", data: k })),
      ...(holdTimeMs === undefined ? {} : { "hold-time": holdTimeMs }),
    });
  }

  /** Asks QEMU to exit; the connection closing with it is the expected answer. */
  async quit(): Promise<void> {
    await this.execute("quit").catch((e) => {
      if (!this.closed) throw e;
    });
  }

  close(): void {
    this.socket.destroy();
  }

  private receive(chunk: string): void {
    this.buffer += chunk;
    let nl = this.buffer.indexOf("\n");
    while (nl >= 0) {
      const line = this.buffer.slice(0, nl).trim();
      this.buffer = this.buffer.slice(nl + 1);
      if (line) this.dispatch(line);
      nl = this.buffer.indexOf("\n");
    }
  }

  private dispatch(line: string): void {
    let msg: Record<string, unknown>;
    try {
      msg = JSON.parse(line);
    } catch {
      return; // QMP sends one JSON object a line; anything else is not ours to act on
    }
    if ("QMP" in msg) {
      this.greeted?.(msg.QMP as Record<string, unknown>);
    } else if (typeof msg.event === "string") {
      this.events.emit("event", msg as unknown as QmpEvent);
    } else if (typeof msg.id === "string" && this.pending.has(msg.id)) {
      const p = this.pending.get(msg.id)!;
      this.pending.delete(msg.id);
      if ("error" in msg) {
        const err = msg.error as { class?: string; desc?: string };
        p.reject(new BootmediaError("BM5103", `QMP ${p.command} failed: ${err.class ?? "Error"}: ${err.desc ?? ""}`));
      } else {
        p.resolve(msg.return);
      }
    }
  }

  private shutdown(error: Error): void {
    if (this.closed) return;
    this.closed = true;
    for (const p of this.pending.values()) p.reject(error);
    this.pending.clear();
    this.events.emit("close");
  }
}

function openSocket(path: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connectSocket(path);
    socket.once("connect", () => {
      socket.off("error", reject);
      resolve(socket);
    });
    socket.once("error", reject);
  });
}

function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
