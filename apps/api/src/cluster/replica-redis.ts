import type { RunLog } from "../runs/run-log.js";
import { BlockingStreamReader, defaultBlockMs } from "./blocking-stream-reader.js";
import { closeRedis, openRedis, type Redis } from "./redis-connection.js";
import { wakeStreamKey } from "./redis-keys.js";
import { defaultUnansweredMs } from "./redis-watchdog.js";

export interface ReplicaRedisOptions {
  url: string;
  /** Names the connections (`streamchat:<replicaId>:<role>` in CLIENT LIST) and the reader's wake stream. */
  replicaId: string;
  log: RunLog;
  /** How long one blocking XREAD waits before it starts over (default 5000 ms). */
  blockMs?: number;
  /**
   * The connections' watchdog deadline (RedisConnectionOptions.unansweredMs; the reader's adds its block time), default
   * 10 000 ms. The replica's other connection (the subscriber) takes it from here too: `unansweredMs` below.
   */
  unansweredMs?: number;
}

/**
 * The Redis connections a replica's users share: the command connection, and the ONE blocking stream reader on a
 * connection of its own, which reads the feed streams of the users it serves. (The subscriber — control messages, and
 * the live events of the runs this replica follows — is the run streams' alone: cluster/redis-streams.ts.)
 *
 * The run streams and the conversation feed each take a share and give it back when they close; the last one
 * back closes the reader, then the command connection once its pending commands are answered (the closing events
 * of this replica's runs may still be on their way to their streams). So the two close in any order.
 */
export class ReplicaRedis {
  private shares = 0;
  private closing: Promise<void> | undefined;

  private constructor(
    readonly command: Redis,
    readonly reader: BlockingStreamReader,
    /**
     * The watchdog deadline of these connections, for any other connection this replica opens (the control
     * subscriber, redis-streams.ts): one setting for every Redis connection of a replica, whoever opened them.
     */
    readonly unansweredMs: number,
  ) {}

  static async open(opts: ReplicaRedisOptions): Promise<ReplicaRedis> {
    const { url, replicaId, log } = opts;
    const unansweredMs = opts.unansweredMs ?? defaultUnansweredMs;
    const blockMs = opts.blockMs ?? defaultBlockMs;
    const command = await openRedis({ url, role: "commands", replicaId, log, unansweredMs });
    let connection: Redis;
    try {
      // Its XREAD waits up to blockMs for an answer by design; the watchdog's PING waits behind it.
      connection = await openRedis({ url, role: "stream reader", replicaId, log, unansweredMs, blockingMs: blockMs });
    } catch (error) {
      command.destroy();
      throw error;
    }
    const reader = new BlockingStreamReader({
      connection,
      command,
      wakeKey: wakeStreamKey(replicaId),
      log,
      logContext: { replicaId },
      blockMs,
    });
    return new ReplicaRedis(command, reader, unansweredMs);
  }

  /** Takes a share; the function gives it back (once, however often it is called). */
  retain(): () => Promise<void> {
    if (this.closing) throw new Error("the replica's Redis connections are closed");
    this.shares++;
    let released: Promise<void> | undefined;
    return () => (released ??= this.release());
  }

  /** Start-up failed before every user took its share: everything closes now, shares or not. */
  abort(): Promise<void> {
    return (this.closing ??= this.closeAll());
  }

  private async release(): Promise<void> {
    this.shares--;
    if (this.shares === 0) await this.abort();
  }

  private async closeAll(): Promise<void> {
    await this.reader.close();
    await closeRedis(this.command);
  }
}
