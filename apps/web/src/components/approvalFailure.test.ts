import { describe, expect, it } from "vitest";
import { approvalFailure } from "./approvalFailure.js";

// chat.approve's refusals as the tRPC client hands them over: the server's message, and the errorFormatter's `data`.
const conflict = (reason: unknown) =>
  Object.assign(new Error("This call was already approved."), {
    data: { code: "CONFLICT", httpStatus: 409, appCode: "bad_request", path: "chat.approve", ...(reason === undefined ? {} : { conflict: reason }) },
  });

describe("approvalFailure on CONFLICT", () => {
  it("says which decision won, or why nothing waits for one, from the server's data.conflict", () => {
    expect(approvalFailure(conflict("approved"))).toEqual({ text: "Already approved elsewhere (another tab, device or the CLI).", retry: false });
    expect(approvalFailure(conflict("denied"))).toEqual({ text: "Already denied elsewhere (another tab, device or the CLI).", retry: false });
    expect(approvalFailure(conflict("timed_out"))).toEqual({ text: "The time to decide ran out: the call was denied.", retry: false });
    expect(approvalFailure(conflict("ended"))).toEqual({ text: "The answer has ended: nothing waits for a decision.", retry: false });
    expect(approvalFailure(conflict("answered"))).toEqual({
      text: "The answer went on without this call's decision: nothing waits for one.",
      retry: false,
    });
  });

  it("keeps the general words without a reason it knows: an older server, a newer reason, anything else", () => {
    const general = { text: "Already decided elsewhere, or the answer no longer waits for a decision.", retry: false };
    for (const reason of [undefined, null, "reconsidered", "toString", "__proto__", 1, { approved: true }]) {
      expect(approvalFailure(conflict(reason)), String(reason)).toEqual(general);
    }
  });

  it("reads the reason only on a CONFLICT", () => {
    const notFound = Object.assign(new Error("Run not found"), { data: { code: "NOT_FOUND", httpStatus: 404, appCode: null, conflict: "approved" } });
    expect(approvalFailure(notFound).text).toBe("This answer no longer exists: the chat may have been deleted in another tab.");
  });
});
