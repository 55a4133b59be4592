import type { ChatEvent } from "@streamchat/core";
import type { StoredEvent } from "@streamchat/store";

/**
 * Redis names. One stream per run whose entry ids are the events' seqs (`<seq>-0`), so a stream id and an SSE event
 * id name the same event on every replica, and XADD itself refuses an id that does not increase.
 */
export const runStreamKey = (runId: string) => `streamchat:run:${runId}`;
/**
 * Per run: the pub/sub channel its owner publishes each event to, right after adding it to the run's stream; the
 * replicas that follow the run subscribe to it (run-stream-followers.ts). Messages are `liveMessage`s.
 */
const runChannelPrefix = "streamchat:run-live:";
export const runChannel = (runId: string) => `${runChannelPrefix}${runId}`;
export const isRunChannel = (channel: string) => channel.startsWith(runChannelPrefix);

/**
 * A run channel's message: the event's stream entry id, a space, its JSON (the entry's `e` field), as
 * run-event-script.ts builds it.
 */
export const liveMessage = (seq: number, json: string) => `${streamId(seq)} ${json}`;

/** A run channel's message → its seq and JSON; undefined for anything else. */
export function parseLiveMessage(message: string): { seq: number; json: string } | undefined {
  const space = message.indexOf(" ");
  const seq = space > 0 ? seqOf(message.slice(0, space)) : Number.NaN;
  return Number.isSafeInteger(seq) && seq > 0 ? { seq, json: message.slice(space + 1) } : undefined;
}

/** Per replica: an XADD here wakes its blocked stream reader, so that it reads a new set of (conversation feed) streams. */
export const wakeStreamKey = (replicaId: string) => `streamchat:wake:${replicaId}`;
/**
 * One hash for the cluster: run id → "<replica id> <ms>", for each run whose `done` that replica is committing and
 * whose end it has not published yet (RunStreams.pendingEnds). Entries live for a commit's round trip; a dead
 * replica's stay until a survivor announces those ends. Replicas on another database sharing this Redis leave the
 * entries of runs they do not know alone (for an hour: recovery.ts).
 */
export const pendingEndsKey = "streamchat:pending-ends";
/** Per user: their conversation feed (feed/redis-feed.ts). */
export const feedStreamKey = (userId: string) => `streamchat:feed:${userId}`;
/** Per replica: the pub/sub channel its control messages (cancel, approval decisions) and their replies arrive on. */
export const controlChannel = (replicaId: string) => `streamchat:control:${replicaId}`;

/** The field of a stream entry every entry has: the event as JSON. */
export const eventField = "e";
/**
 * The run-start entry's other fields: the run's user and the replica executing it, so that any replica can route a
 * cancel to the owner, and check whose run it is, while the database is unreachable.
 */
export const userField = "u";
export const ownerField = "o";

/** The user and owner a run-start entry carries (as XRANGE returns it); null for another entry or an older one. */
export function ownershipOf(entry: unknown): { userId: string; owner: string } | null {
  if (!Array.isArray(entry)) return null;
  const fields: unknown = entry[1];
  if (!Array.isArray(fields)) return null;
  // Field names sit at even positions (a value may look like a name).
  const valueOf = (name: string): unknown => {
    for (let at = 0; at + 1 < fields.length; at += 2) if (fields[at] === name) return fields[at + 1];
    return undefined;
  };
  const userId = valueOf(userField);
  const owner = valueOf(ownerField);
  return typeof userId === "string" && typeof owner === "string" && userId && owner ? { userId, owner } : null;
}

export const streamId = (seq: number) => `${seq}-0`;

/** `<seq>-0` → seq. */
export function seqOf(id: string): number {
  const dash = id.indexOf("-");
  return Number(dash < 0 ? id : id.slice(0, dash));
}

type RawEntry = [id: string, fields: string[]];

/** A stream entry's event as XRANGE/XREAD return it: the JSON its producer's `JSON.stringify` wrote. */
export function entryJson(entry: unknown): string | undefined {
  if (!Array.isArray(entry)) return undefined;
  const [id, fields] = entry as RawEntry;
  if (typeof id !== "string" || !Array.isArray(fields)) return undefined;
  const at = fields.indexOf(eventField);
  const json = at >= 0 ? fields[at + 1] : undefined;
  return typeof json === "string" ? json : undefined;
}

/** A stream entry as XRANGE/XREAD return it → the stored event. The JSON is our own replicas' (trusted). */
export function entryToEvent(entry: unknown, json = entryJson(entry)): StoredEvent | undefined {
  if (json === undefined) return undefined;
  return { seq: seqOf((entry as RawEntry)[0]), event: JSON.parse(json) as ChatEvent };
}

/** XREAD's reply (RESP2: [[key, entries]…]; RESP3: { key: entries }) → [key, entries] pairs. */
export function xreadPairs(reply: unknown): Array<[string, unknown[]]> {
  if (reply === null || reply === undefined) return [];
  if (Array.isArray(reply)) return reply.filter((pair): pair is [string, unknown[]] => Array.isArray(pair) && typeof pair[0] === "string");
  if (reply instanceof Map) return [...reply.entries()] as Array<[string, unknown[]]>;
  if (typeof reply === "object") return Object.entries(reply as Record<string, unknown[]>);
  return [];
}
