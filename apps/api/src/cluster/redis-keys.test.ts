import { describe, expect, it } from "vitest";
import { entryJson, entryToEvent, ownershipOf } from "./redis-keys.js";

describe("a run-start entry's ownership fields", () => {
  const event = JSON.stringify({ type: "run-start", runId: "r1", at: 1, conversationId: "c1", model: "m", provider: "p" });

  it("reads the user and owner beside the event, which still reads as before", () => {
    const entry = ["1-0", ["e", event, "u", "alice", "o", "host:1:ab"]];
    expect(ownershipOf(entry)).toEqual({ userId: "alice", owner: "host:1:ab" });
    expect(entryToEvent(entry)).toEqual({ seq: 1, event: JSON.parse(event) });
  });

  it("reads names at their positions only: a value that looks like a field name is a value", () => {
    expect(ownershipOf(["1-0", ["e", event, "u", "o", "o", "u"]])).toEqual({ userId: "o", owner: "u" });
  });

  it("is null for an entry without them (any later event, or a run-start written by an older replica) and for garbage", () => {
    expect(ownershipOf(["1-0", ["e", event]])).toBeNull();
    expect(ownershipOf(["1-0", ["e", event, "u", "alice"]])).toBeNull();
    expect(ownershipOf(["1-0", ["e", event, "u", "", "o", "x"]])).toBeNull();
    expect(ownershipOf(undefined)).toBeNull();
    expect(ownershipOf(["1-0", "nope"])).toBeNull();
  });
});

describe("an entry's event JSON", () => {
  it("is the producer's string, which the entry's event is parsed from; nothing for garbage", () => {
    const json = JSON.stringify({ type: "token", runId: "r1", at: 1, text: 'a "quoted" token' });
    const entry = ["7-0", ["e", json]];
    expect(entryJson(entry)).toBe(json);
    expect(entryToEvent(entry, entryJson(entry))).toEqual({ seq: 7, event: JSON.parse(json) });
    for (const garbage of [null, "7-0", ["7-0"], [7, ["e", json]], ["7-0", ["u", "alice"]], ["7-0", ["e", 5]]]) {
      expect(entryJson(garbage)).toBeUndefined();
      expect(entryToEvent(garbage)).toBeUndefined();
    }
  });
});
