// @vitest-environment jsdom
import { act, cleanup, fireEvent, render } from "@testing-library/react";
import { afterEach, describe, expect, it } from "vitest";
import { serverError, trpcWrapper } from "../test-support/trpc.js";
import { ApprovalCard } from "./ApprovalCard.js";
import { approvalFailure } from "./approvalFailure.js";

afterEach(cleanup);

const tool = {
  callId: "call_1",
  name: "delete_file",
  args: { path: "a.txt" },
  state: "running" as const,
  approval: { source: "files", description: "Deletes a file", expiresAt: Date.now() + 60_000, decision: "waiting" as const },
};

/** The card of a waiting call; chat.approve fails with each of `failures` in turn, then succeeds. */
function renderCard(failures: unknown[]) {
  const calls: unknown[] = [];
  const wrapper = trpcWrapper((path, input) => {
    if (path !== "chat.approve") return null;
    calls.push(input);
    const failure = failures.shift();
    if (failure !== undefined) throw failure;
    return { runId: "run_1", callId: "call_1", approved: (input as { approved: boolean }).approved };
  });
  const view = render(<ApprovalCard runId="run_1" tool={tool} live />, { wrapper });
  return { view, calls };
}

const button = (view: ReturnType<typeof render>, name: string) => view.getByRole("button", { name }) as HTMLButtonElement;

describe("ApprovalCard's failures", () => {
  it("says a call decided elsewhere in words, not the server's sentence, and offers nothing to press again", async () => {
    const { view, calls } = renderCard([serverError("CONFLICT", "This call was already denied.", "bad_request")]);
    fireEvent.click(button(view, "Approve"));
    const alert = await view.findByRole("alert");
    expect(alert.textContent).toBe("Already decided elsewhere, or the answer no longer waits for a decision.");
    expect(alert.textContent).not.toContain("This call was already denied.");
    expect(button(view, "Approve").disabled).toBe(true);
    expect(button(view, "Deny").disabled).toBe(true);
    expect(view.queryByRole("button", { name: "Try again" })).toBeNull();
    expect(calls).toHaveLength(1);
  });

  it("names a deleted run, and never shows the API's wording about callIds", async () => {
    const { view } = renderCard([serverError("NOT_FOUND", "This run has no approval request with that callId.")]);
    fireEvent.click(button(view, "Deny"));
    const alert = await view.findByRole("alert");
    expect(alert.textContent).toBe("This answer no longer exists: the chat may have been deleted in another tab.");
    expect(view.queryByRole("button", { name: "Try again" })).toBeNull();
  });

  it("offers Try again when the server was out of reach, and sends the same decision again", async () => {
    const { view, calls } = renderCard([new TypeError("Failed to fetch")]);
    fireEvent.click(button(view, "Deny"));
    const alert = await view.findByRole("alert");
    expect(alert.textContent).toBe("Could not reach the server — try again.");
    // Both choices stay open too: nothing was decided.
    expect(button(view, "Approve").disabled).toBe(false);
    await act(async () => fireEvent.click(button(view, "Try again")));
    expect(calls).toEqual([
      { runId: "run_1", callId: "call_1", approved: false },
      { runId: "run_1", callId: "call_1", approved: false },
    ]);
    await act(async () => {});
    expect(view.queryByRole("alert")).toBeNull();
    expect(view.queryByRole("button", { name: "Try again" })).toBeNull();
  });

  it("offers Try again when the server is unavailable or has not acted on a kept decision yet", async () => {
    for (const failure of [
      serverError("SERVICE_UNAVAILABLE", "The database is unreachable; try again in a moment.", "internal"),
      serverError("TIMEOUT", "The decision is recorded, but the run has not acted on it yet (its server may be restarting); ask again to see what it did."),
    ]) {
      const { view } = renderCard([failure]);
      fireEvent.click(button(view, "Approve"));
      expect((await view.findByRole("alert")).textContent).toMatch(/try again/i);
      expect(button(view, "Try again")).toBeTruthy();
      cleanup();
    }
  });
});

describe("approvalFailure", () => {
  const refusal = (code: string, httpStatus: number, appCode: string | null = null) =>
    Object.assign(new Error("raw server text"), { data: { code, httpStatus, appCode } });

  it("maps each refusal of chat.approve to short words, and says when trying again can help", () => {
    expect(approvalFailure(refusal("CONFLICT", 409, "bad_request"))).toEqual({
      text: "Already decided elsewhere, or the answer no longer waits for a decision.",
      retry: false,
    });
    expect(approvalFailure(refusal("NOT_FOUND", 404)).retry).toBe(false);
    expect(approvalFailure(refusal("BAD_REQUEST", 400, "bad_request"))).toEqual({ text: "The server did not accept this decision.", retry: false });
    expect(approvalFailure(refusal("UNAUTHORIZED", 401, "unauthorized")).retry).toBe(false);
    expect(approvalFailure(refusal("TOO_MANY_REQUESTS", 429, "rate_limited"))).toEqual({ text: "The server is busy — try again in a moment.", retry: true });
    expect(approvalFailure(refusal("TIMEOUT", 408)).retry).toBe(true);
    expect(approvalFailure(refusal("SERVICE_UNAVAILABLE", 503, "internal")).retry).toBe(true);
    expect(approvalFailure(refusal("INTERNAL_SERVER_ERROR", 500, "internal")).retry).toBe(true);
    expect(approvalFailure(new TypeError("Failed to fetch"))).toEqual({ text: "Could not reach the server — try again.", retry: true });
    for (const code of ["CONFLICT", "NOT_FOUND", "BAD_REQUEST", "TIMEOUT", "SERVICE_UNAVAILABLE"]) {
      expect(approvalFailure(refusal(code, 400)).text).not.toContain("raw server text");
    }
  });
});
