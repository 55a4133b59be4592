import { setFlagsFromString } from "node:v8";
import type { RunRecord } from "@streamchat/store";
import { describe, expect, it } from "vitest";
import { LiveRuns } from "./live-runs.js";
import { localLiveHandle } from "./subscribe.js";

setFlagsFromString("--allow-natives-syntax");
const hasFastProperties = new Function("o", "return %HasFastProperties(o)") as (o: object) => boolean;

const record: RunRecord = {
  id: "run-1",
  conversationId: "c-1",
  userId: "u",
  model: "m",
  provider: "ollama",
  clientRequestId: null,
  status: "running",
  reason: null,
  usage: null,
  owner: null,
  createdAt: 0,
  finishedAt: null,
};

describe("localLiveHandle", () => {
  it("follows the run's listeners and end, and is not a dictionary (every open subscription keeps one)", () => {
    const live = new LiveRuns();
    const { live: run, end } = live.add(record, undefined);
    const listener = () => {};
    let woken = 0;
    const handle = localLiveHandle(live, record.id, listener, () => woken++);
    expect(handle).not.toBeNull();
    expect(hasFastProperties(handle!)).toBe(true);
    expect(run.listeners.has(listener)).toBe(true);
    expect(handle!.closed).toBe(false);
    expect(handle!.takeStalled()).toBe(false);

    end();
    expect(handle!.closed).toBe(true);
    expect(woken).toBe(1);
    handle!.stop();
    expect(run.listeners.size).toBe(0);
    expect(run.wake.size).toBe(0);
    expect(localLiveHandle(live, "another run", listener, () => {})).toBeNull();
  });
});
