import { describe, expect, it } from "vitest";
import { maxResumes, ResumeTracker } from "./streamResume.js";

describe("ResumeTracker", () => {
  it("resumes a stream that ended before done a bounded number of times, with growing pauses, then gives up", () => {
    const tracker = new ResumeTracker();
    const decisions = Array.from({ length: maxResumes + 2 }, () => tracker.ended());
    expect(decisions).toEqual([
      { kind: "resume", afterMs: 400 },
      { kind: "resume", afterMs: 800 },
      { kind: "resume", afterMs: 1600 },
      { kind: "give-up" },
      { kind: "give-up" },
    ]);
  });

  it("starts counting afresh after progress or a retry by the user", () => {
    const tracker = new ResumeTracker(2, 100);
    expect(tracker.ended()).toEqual({ kind: "resume", afterMs: 100 });
    expect(tracker.ended()).toEqual({ kind: "resume", afterMs: 200 });
    tracker.progress(); // the resumed stream delivered new events before it ended again
    expect(tracker.ended()).toEqual({ kind: "resume", afterMs: 100 });
    expect(tracker.ended()).toEqual({ kind: "resume", afterMs: 200 });
    expect(tracker.ended()).toEqual({ kind: "give-up" });
    tracker.reset();
    expect(tracker.ended()).toEqual({ kind: "resume", afterMs: 100 });
  });
});
