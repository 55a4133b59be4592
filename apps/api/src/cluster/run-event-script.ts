import { eventField, runChannel, runStreamKey, streamId } from "./redis-keys.js";

/**
 * One run event into Redis, as one command: added to the run's stream, its expiry set when it is the run's first or
 * last, then published to the run's channel (the replicas following the run live: run-stream-followers.ts).
 *
 * One script rather than XADD + PEXPIRE + PUBLISH: one command to write and one reply (one promise) per event on the
 * owner, as when there was the XADD alone, and no message without its entry — an XADD refused (an id the stream
 * already has: a closer published it) publishes nothing. Sent as EVAL each time (Redis keeps the compiled script by
 * its hash): an EVALSHA refused after a Redis restart (NOSCRIPT) would have to be sent again, behind events sent
 * after it.
 *
 * KEYS[1] the stream; ARGV: the entry id, the event's JSON, the channel, the expiry in ms ("" for none), then the
 * entry's other fields. The message is liveMessage(seq, json).
 */
const script = `local id = redis.call('XADD', KEYS[1], ARGV[1], '${eventField}', ARGV[2], unpack(ARGV, 5))
if ARGV[4] ~= '' then redis.call('PEXPIRE', KEYS[1], ARGV[4]) end
redis.call('PUBLISH', ARGV[3], ARGV[1] .. ' ' .. ARGV[2])
return id`;

/** The EVAL command for one event of run `runId`; `fields`: the entry's other fields (name, value, …). */
export function runEventCommand(runId: string, seq: number, json: string, expireMs: string | undefined, fields: readonly string[]): string[] {
  return ["EVAL", script, "1", runStreamKey(runId), streamId(seq), json, runChannel(runId), expireMs ?? "", ...fields];
}
