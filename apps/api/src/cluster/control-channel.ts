import { randomUUID } from "node:crypto";
import { z } from "zod";
import type { RunLog } from "../runs/run-log.js";
import type { RunControl } from "../runs/run-streams.js";
import type { Redis } from "./redis-connection.js";
import { controlChannel } from "./redis-keys.js";

const controlSchema = z.discriminatedUnion("type", [
  z.object({ type: z.literal("cancel") }),
  z.object({ type: z.literal("approval"), callId: z.string() }),
]) satisfies z.ZodType<RunControl>;

const messageSchema = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("control"), id: z.string(), from: z.string(), runId: z.string(), control: controlSchema }),
  z.object({ kind: z.literal("reply"), id: z.string(), applied: z.boolean() }),
]);

type Message = z.infer<typeof messageSchema>;

export interface ControlChannelOptions {
  /** Publishes (the shared command connection). */
  command: Redis;
  /** A connection in subscriber mode (the replica's subscriber: the runs it follows live subscribe on it too). */
  subscriber: Redis;
  replicaId: string;
  log: RunLog;
  /** Applies a control message to a run executing here; true when applied. */
  apply: (runId: string, control: RunControl) => boolean;
  /** How long a sender waits for the owner's reply (default 2000 ms). */
  replyTimeoutMs?: number;
}

/**
 * Control messages between replicas over Redis pub/sub: each replica subscribes to its own channel; a sender
 * publishes to the channel of the run's owner (runs.owner in the database) and waits for its reply (whether it was
 * applied). Pub/sub delivers at once (a cancel reaches the owner in a round trip) and keeps nothing: a message to a
 * replica that is gone reaches no one, which PUBLISH reports (0 receivers) — the run is then an orphan, closed by the
 * sweep.
 */
export class ControlChannel {
  private readonly pending = new Map<string, (applied: boolean) => void>();
  private readonly channel: string;

  private constructor(private readonly opts: ControlChannelOptions) {
    this.channel = controlChannel(opts.replicaId);
  }

  static async open(opts: ControlChannelOptions): Promise<ControlChannel> {
    const channel = new ControlChannel(opts);
    // node-redis subscribes again by itself after a reconnect.
    await opts.subscriber.subscribe(channel.channel, (raw) => channel.receive(raw));
    return channel;
  }

  /**
   * Delivers `control` to the run on replica `owner`; resolves to whether it was applied there, within the reply
   * timeout. Never rejects.
   */
  async send(owner: string, runId: string, control: RunControl): Promise<boolean> {
    const id = randomUUID();
    let timer: NodeJS.Timeout | undefined;
    const reply = new Promise<boolean>((resolve) => {
      this.pending.set(id, resolve);
      timer = setTimeout(() => resolve(false), this.opts.replyTimeoutMs ?? 2000);
    });
    try {
      const message: Message = { kind: "control", id, from: this.opts.replicaId, runId, control };
      const published = this.opts.command.publish(controlChannel(owner), JSON.stringify(message));
      // The timeout counts from here, PUBLISH included: commands have no timeout of their own (redis-connection.ts),
      // and a Redis that accepts the connection but stops answering would otherwise hold a Stop or an approval forever.
      return await Promise.race([published.then((receivers) => (receivers === 0 ? false : reply)), reply]);
    } catch (error) {
      this.opts.log.warn({ err: error, runId, owner }, "could not send a control message");
      return false;
    } finally {
      clearTimeout(timer);
      this.pending.delete(id);
    }
  }

  async close(): Promise<void> {
    for (const resolve of this.pending.values()) resolve(false);
    this.pending.clear();
  }

  private receive(raw: string): void {
    let message: Message;
    try {
      message = messageSchema.parse(JSON.parse(raw));
    } catch (error) {
      this.opts.log.warn({ err: error }, "ignored a malformed control message");
      return;
    }
    if (message.kind === "reply") {
      this.pending.get(message.id)?.(message.applied);
      return;
    }
    let applied = false;
    try {
      applied = this.opts.apply(message.runId, message.control);
    } catch (error) {
      this.opts.log.error({ err: error, runId: message.runId }, "applying a control message failed");
    }
    const reply: Message = { kind: "reply", id: message.id, applied };
    this.opts.command.publish(controlChannel(message.from), JSON.stringify(reply)).catch(() => {
      // The sender times out and answers false.
    });
  }
}
