import { setImmediate as nextTurn } from "node:timers/promises";
import type { ChatEvent } from "@streamchat/core";
import { describe, expect, it, vi } from "vitest";
import { TokenCoalescer } from "./token-coalescer.js";

const token = (text: string, at = 1): ChatEvent => ({ type: "token", runId: "r", at, text });
const status: ChatEvent = { type: "status", runId: "r", at: 2, phase: "tool", message: "Using tool: x…" };

function collect() {
  const out: ChatEvent[] = [];
  return { out, coalescer: new TokenCoalescer((e) => out.push(e)) };
}

describe("TokenCoalescer", () => {
  it("sends the first token at once and merges the tokens after it in one event-loop turn, sent in the next turn", async () => {
    const { out, coalescer } = collect();
    coalescer.push(token("He", 4));
    expect(out).toEqual([{ type: "token", runId: "r", at: 4, text: "He" }]);
    coalescer.push(token("l", 5));
    coalescer.push(token("lo", 6));
    coalescer.push(token(" world", 7));
    expect(out).toHaveLength(1);
    await nextTurn();
    expect(out.slice(1)).toEqual([{ type: "token", runId: "r", at: 5, text: "llo world" }]);
  });

  it("sends the first token after any other event at once too (a status, a tool result)", async () => {
    const { out, coalescer } = collect();
    coalescer.push(token("a"));
    coalescer.push(token("b"));
    coalescer.push(status);
    coalescer.push(token("c"));
    expect(out.map((e) => (e.type === "token" ? e.text : e.type))).toEqual(["a", "b", "status", "c"]);
    coalescer.push(token("d"));
    coalescer.push(token("e"));
    await nextTurn();
    expect(out.map((e) => (e.type === "token" ? e.text : e.type))).toEqual(["a", "b", "status", "c", "de"]);
  });

  it("keeps tokens of different turns apart (a slow model still streams token by token)", async () => {
    const { out, coalescer } = collect();
    coalescer.push(token("a"));
    await nextTurn();
    coalescer.push(token("b"));
    await nextTurn();
    expect(out.map((e) => (e.type === "token" ? e.text : e.type))).toEqual(["a", "b"]);
  });

  it("flushes every run's pending text at the end of the turn, in the order the runs' text became pending", async () => {
    const out: string[] = [];
    const runs = ["a", "b", "c"].map((name) => new TokenCoalescer((e) => out.push(`${name}:${e.type === "token" ? e.text : e.type}`)));
    for (const run of runs) run.push(token("1"));
    runs[2]!.push(token("2"));
    runs[0]!.push(token("2"));
    runs[0]!.push(token("3"));
    runs[1]!.push(token("2"));
    expect(out).toEqual(["a:1", "b:1", "c:1"]);
    await nextTurn();
    expect(out).toEqual(["a:1", "b:1", "c:1", "c:2", "a:23", "b:2"]);
  });

  it("flushes text that became pending again after an early flush in the same turn, once", async () => {
    const { out, coalescer } = collect();
    coalescer.push(token("a"));
    coalescer.push(token("b"));
    coalescer.push(status); // flushes "b" now
    coalescer.push(token("c"));
    coalescer.push(token("d"));
    await nextTurn();
    await nextTurn();
    expect(out.map((e) => (e.type === "token" ? e.text : e.type))).toEqual(["a", "b", "status", "c", "d"]);
  });

  it("text pushed while the turn's flush runs belongs to the next turn: its first token goes at once, the rest then", async () => {
    const out: string[] = [];
    let second: TokenCoalescer | undefined;
    const first = new TokenCoalescer((e) => {
      out.push(`first:${e.type === "token" ? e.text : e.type}`);
      // A listener reacting to the first run's text with text of another run (the case a loop would never end in).
      if (e.type === "token" && e.text === "yz") {
        second!.push(token("late"));
        second!.push(token("r"));
      }
    });
    second = new TokenCoalescer((e) => out.push(`second:${e.type === "token" ? e.text : e.type}`));
    second.push(token("s"));
    first.push(token("x"));
    first.push(token("y"));
    first.push(token("z"));
    await nextTurn();
    expect(out).toEqual(["second:s", "first:x", "first:yz", "second:late"]);
    await nextTurn();
    expect(out).toEqual(["second:s", "first:x", "first:yz", "second:late", "second:r"]);
  });

  it("at a model's pace (one token per run in a turn) sends every token at once, with one immediate per turn for all runs", async () => {
    const outs = Array.from({ length: 100 }, () => [] as string[]);
    const runs = outs.map((out) => new TokenCoalescer((e) => out.push(e.type === "token" ? e.text : e.type)));
    for (const run of runs) run.push(token("first"));
    await nextTurn();
    const scheduled = vi.spyOn(globalThis, "setImmediate");
    try {
      for (const run of runs) run.push(token("second"));
      expect(outs.every((out) => out.join("|") === "first|second")).toBe(true);
      expect(scheduled).toHaveBeenCalledTimes(1);
    } finally {
      scheduled.mockRestore();
    }
    await nextTurn();
    expect(outs.every((out) => out.join("|") === "first|second")).toBe(true);
  });

  it("sends pending text before any other event, so order is kept", () => {
    const { out, coalescer } = collect();
    coalescer.push(token("w"));
    coalescer.push(token("x"));
    coalescer.push(token("y"));
    coalescer.push(status);
    coalescer.push(token("z"));
    coalescer.flush();
    expect(out.map((e) => (e.type === "token" ? e.text : e.type))).toEqual(["w", "xy", "status", "z"]);
  });

  it("sends a long run of text in bounded pieces whose concatenation is unchanged", () => {
    const { out, coalescer } = collect();
    const pieces = Array.from({ length: 5000 }, (_, i) => `tok${i} `);
    for (const p of pieces) coalescer.push(token(p));
    coalescer.flush();
    expect(out.length).toBeGreaterThan(1);
    expect(out.map((e) => (e.type === "token" ? e.text : "")).join("")).toBe(pieces.join(""));
  });

  it("does not mutate the caller's events", () => {
    const { coalescer } = collect();
    const first = token("a");
    coalescer.push(first);
    coalescer.push(token("b"));
    coalescer.flush();
    expect(first).toEqual(token("a"));
  });
});
