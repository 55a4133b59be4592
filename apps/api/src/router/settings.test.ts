import { TRPCClientError } from "@trpc/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { instructionsHeading } from "../runs/context.js";
import { collectRun, lastSystemMessage as systemMessageOf, startTestApi, type ApiClient, type TestApi } from "../test-support/harness.js";
import { maxInstructionsChars } from "./settings.js";

let api: TestApi;
let alice: ApiClient;
let bob: ApiClient;
beforeAll(async () => {
  api = await startTestApi({ env: { AUTH_TOKENS: "alice:alice-token-1,bob:bob-token-22", SYSTEM_PROMPT: "You are the test assistant." } });
  alice = api.client("alice-token-1");
  bob = api.client("bob-token-22");
});
afterAll(() => api?.close());

const lastSystemMessage = () => systemMessageOf(api.sim);

async function answer(client: ApiClient, message: string): Promise<void> {
  const { runId } = await client.chat.send.mutate({ message });
  const received = await collectRun(client, runId);
  expect(received.at(-1)?.event).toMatchObject({ type: "done", reason: "stop" });
}

async function refusal(call: Promise<unknown>): Promise<TRPCClientError<never>> {
  const error = await call.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(TRPCClientError);
  return error as TRPCClientError<never>;
}

describe("settings: custom instructions", () => {
  it("are empty for a user who never set any, stored trimmed, each user's own", async () => {
    expect(await bob.settings.get.query()).toEqual({ instructions: "", updatedAt: null });
    const before = Date.now();
    const saved = await alice.settings.setInstructions.mutate({ instructions: "  Answer in French.\nBe brief.  \n" });
    expect(saved.instructions).toBe("Answer in French.\nBe brief.");
    expect(saved.updatedAt).toBeGreaterThanOrEqual(before);
    expect(await alice.settings.get.query()).toEqual(saved);
    expect(await bob.settings.get.query()).toEqual({ instructions: "", updatedAt: null });
  });

  it("go into the system message of the user's answers started afterwards, after the server's prompt, and only theirs", async () => {
    await alice.settings.setInstructions.mutate({ instructions: "Call me Captain." });
    await answer(alice, "hi");
    expect(lastSystemMessage()).toBe(`You are the test assistant.\n\n${instructionsHeading}\n\nCall me Captain.`);

    await answer(bob, "hi");
    expect(lastSystemMessage()).toBe("You are the test assistant.");

    // Cleared: the server's prompt alone again.
    expect(await alice.settings.setInstructions.mutate({ instructions: "   " })).toMatchObject({ instructions: "" });
    await answer(alice, "hi again");
    expect(lastSystemMessage()).toBe("You are the test assistant.");
  });

  it("are read by the run, so a second process on the same data sees what the first one stored", async () => {
    const store = await api.openStore();
    try {
      await store.setInstructions("alice", "Written by another process.");
    } finally {
      await store.close();
    }
    await answer(alice, "hello");
    expect(lastSystemMessage()).toContain("\n\nWritten by another process.");
    await alice.settings.setInstructions.mutate({ instructions: "" });
  });

  it("refuse text that is too long or unstorable with a bad_request that says why, and keep what was stored", async () => {
    await alice.settings.setInstructions.mutate({ instructions: "Keep me." });
    const long = await refusal(alice.settings.setInstructions.mutate({ instructions: "x".repeat(maxInstructionsChars + 1) }));
    expect(long.data).toMatchObject({ code: "BAD_REQUEST", httpStatus: 400, appCode: "bad_request" });
    expect(long.message).toContain(`at most ${maxInstructionsChars} characters`);
    const nul = await refusal(alice.settings.setInstructions.mutate({ instructions: "a\u0000b" }));
    expect(nul.data).toMatchObject({ code: "BAD_REQUEST", appCode: "bad_request" });
    expect(nul.message).toContain("NUL");
    // Exactly at the limit is fine.
    const atLimit = "y".repeat(maxInstructionsChars);
    expect((await alice.settings.setInstructions.mutate({ instructions: atLimit })).instructions).toBe(atLimit);
    expect((await alice.settings.get.query()).instructions).toBe(atLimit);
    await alice.settings.setInstructions.mutate({ instructions: "" });
  });

  it("are nobody's without a token", async () => {
    const anonymous = api.client();
    expect((await refusal(anonymous.settings.get.query())).data).toMatchObject({ httpStatus: 401 });
    expect((await refusal(anonymous.settings.setInstructions.mutate({ instructions: "x" }))).data).toMatchObject({ httpStatus: 401 });
  });
});
