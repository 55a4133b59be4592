// @vitest-environment jsdom
import { renderHook } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { useSignInRefused, type SignInCheck } from "./signIn.js";

const refusal = { data: { code: "UNAUTHORIZED" } };

describe("useSignInRefused", () => {
  it("stays refused while the check is asked again, until the server answers it", () => {
    const view = renderHook((check: SignInCheck) => useSignInRefused(check), {
      initialProps: { error: null, data: undefined, isFetching: true } as SignInCheck,
    });
    expect(view.result.current).toBe(false);
    view.rerender({ error: refusal, data: undefined, isFetching: false });
    expect(view.result.current).toBe(true);
    // A token was saved: React Query drops the error of a check that never had data while it asks again.
    view.rerender({ error: null, data: undefined, isFetching: true });
    expect(view.result.current).toBe(true);
    view.rerender({ error: null, data: { models: [] }, isFetching: false });
    expect(view.result.current).toBe(false);
  });

  it("is no refusal when the check failed otherwise (the server is down)", () => {
    const view = renderHook((check: SignInCheck) => useSignInRefused(check), {
      initialProps: { error: { data: { code: "INTERNAL_SERVER_ERROR" } }, data: undefined, isFetching: false },
    });
    expect(view.result.current).toBe(false);
  });
});
