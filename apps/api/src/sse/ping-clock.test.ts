import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { PingClock, type PingTarget } from "./ping-clock.js";

function target(): PingTarget & { pings: number } {
  return {
    lastWriteTick: 0,
    pings: 0,
    ping() {
      this.pings++;
    },
  };
}

describe("PingClock", () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it("runs one timer for any number of streams, and none without them", () => {
    const clock = new PingClock(10_000, 25_000);
    expect(vi.getTimerCount()).toBe(0);
    const targets = Array.from({ length: 1000 }, target);
    for (const t of targets) clock.add(t);
    expect(vi.getTimerCount()).toBe(1);
    for (const t of targets) clock.delete(t);
    expect(vi.getTimerCount()).toBe(0);
  });

  it("pings a stream after more than an interval of silence and at most a quarter interval later", () => {
    const clock = new PingClock(10_000, 25_000);
    const quiet = target();
    clock.add(quiet);
    vi.advanceTimersByTime(10_000);
    expect(quiet.pings).toBe(0);
    vi.advanceTimersByTime(2_500);
    expect(quiet.pings).toBe(1);
    // The ping was a write; the next one comes after another quiet interval.
    quiet.lastWriteTick = clock.tick;
    vi.advanceTimersByTime(12_500);
    expect(quiet.pings).toBe(2);
    clock.delete(quiet);
  });

  it("leaves alone a stream that writes", () => {
    const clock = new PingClock(1_000);
    const busy = target();
    clock.add(busy);
    for (let i = 0; i < 40; i++) {
      vi.advanceTimersByTime(250);
      busy.lastWriteTick = clock.tick;
    }
    expect(busy.pings).toBe(0);
    clock.delete(busy);
  });

  it("ticks finer when the client's inactivity timeout leaves little slack, so a ping always comes first", () => {
    const clock = new PingClock(10_000, 11_000);
    // interval + tick must stay below 11 s, with room for a late timer.
    expect(10_000 + clock.tickMs).toBeLessThan(11_000);
    const quiet = target();
    clock.add(quiet);
    vi.advanceTimersByTime(10_000 + clock.tickMs);
    expect(quiet.pings).toBe(1);
    clock.delete(quiet);
  });
});
