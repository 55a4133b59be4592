import type { ChatEvent } from "@streamchat/core";
import type { ChatStream } from "../client.js";
import { eventIdOf } from "../follow.js";

/** Pulls events until one matches; returns everything pulled (the match last). Step-by-step, no sleeps. */
export async function readUntil(stream: ChatStream, predicate: (event: ChatEvent) => boolean): Promise<ChatEvent[]> {
  const events: ChatEvent[] = [];
  for (;;) {
    const next = await stream.next();
    if (next.done) throw new Error(`stream ended before the awaited event; got ${types(events).join(",")}`);
    events.push(next.value);
    if (predicate(next.value)) return events;
  }
}

export async function drain(stream: AsyncIterable<ChatEvent>): Promise<ChatEvent[]> {
  const events: ChatEvent[] = [];
  for await (const event of stream) events.push(event);
  return events;
}

export const types = (events: ChatEvent[]) => events.map((e) => e.type);
export const text = (events: ChatEvent[]) => events.map((e) => (e.type === "token" ? e.text : "")).join("");
/** The server's seq of each event, as numbers. */
export const seqs = (events: ChatEvent[]) => events.map((e) => Number(eventIdOf(e)));
export const strictlyIncreasing = (values: number[]) => values.every((v, i) => i === 0 || v > values[i - 1]!);

export function runStart(events: ChatEvent[]) {
  const first = events[0];
  if (first?.type !== "run-start") throw new Error(`first event is ${first?.type}`);
  return first;
}
