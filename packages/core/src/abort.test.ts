import { getEventListeners } from "node:events";
import { describe, expect, it } from "vitest";
import { linkedController } from "./abort.js";

describe("linkedController", () => {
  it("aborts with the parent's reason, and on its own without touching the parent", () => {
    const parent = new AbortController();
    const first = linkedController(parent.signal);
    const second = linkedController(parent.signal);
    second.controller.abort(new Error("only the child"));
    expect(parent.signal.aborted).toBe(false);
    expect(first.controller.signal.aborted).toBe(false);

    const reason = new Error("the run was cancelled");
    parent.abort(reason);
    expect(first.controller.signal.aborted).toBe(true);
    expect(first.controller.signal.reason).toBe(reason);
    // The first abort wins, as with AbortSignal.any.
    expect((second.controller.signal.reason as Error).message).toBe("only the child");
  });

  it("starts aborted under an aborted parent", () => {
    const parent = new AbortController();
    parent.abort("gone");
    const { controller } = linkedController(parent.signal);
    expect(controller.signal.aborted).toBe(true);
    expect(controller.signal.reason).toBe("gone");
  });

  it("unlink removes its listener: the parent keeps nothing of a child that is done", () => {
    const parent = new AbortController();
    const links = Array.from({ length: 3 }, () => linkedController(parent.signal));
    expect(getEventListeners(parent.signal, "abort")).toHaveLength(3);
    for (const link of links) link.unlink();
    expect(getEventListeners(parent.signal, "abort")).toHaveLength(0);
    parent.abort();
    expect(links.every((link) => !link.controller.signal.aborted)).toBe(true);
  });

  it("without a parent it is a plain controller", () => {
    const { controller, unlink } = linkedController(undefined);
    unlink();
    expect(controller.signal.aborted).toBe(false);
    controller.abort();
    expect(controller.signal.aborted).toBe(true);
  });
});
