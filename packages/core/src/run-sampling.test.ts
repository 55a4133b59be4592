import { startSimulator, type Simulator } from "@streamchat/ollama-sim";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ChatMessage } from "./model.js";
import { runChat } from "./run.js";
import { defaultSampling } from "./sampling.js";
import { collect } from "./test-support/recorder.js";
import { simRunOptions } from "./test-support/sim-run.js";

/** A conversation's sampling (RunOptions.sampling) on the simulator: what each round of the run asks the server for. */

let sim: Simulator;
beforeAll(async () => {
  sim = await startSimulator({ tokenDelayMs: 0 });
});
afterAll(async () => {
  await sim.close();
});

const question: ChatMessage[] = [{ role: "user", content: "What is 6*7? Use the calculator." }];
const optionsOf = (body: unknown) => (body as { options?: Record<string, number> }).options ?? {};

describe("a run's sampling", () => {
  it("asks every round for the settings chosen, with the run's own options", async () => {
    const before = sim.chatRequests().length;
    const { shapes, events } = await collect(
      runChat(simRunOptions(sim, "demo", { messages: question, sampling: { temperature: 0.2, topP: 0.9, seed: 42 }, maxAnswerTokens: 500 })),
    );
    expect(shapes.at(-1)).toBe("done:stop");
    // Its start says how it is sampled (kept in the log).
    expect(events[0]).toMatchObject({ type: "run-start", sampling: { temperature: 0.2, topP: 0.9, seed: 42 } });
    const rounds = sim.chatRequests().slice(before);
    // The calculator's round and the answer's: both sampled alike.
    expect(rounds.length).toBe(2);
    for (const round of rounds) expect(optionsOf(round.body)).toMatchObject({ temperature: 0.2, top_p: 0.9, seed: 42, num_predict: 500 });
  });

  it("sends only what was chosen, and nothing for the model's defaults", async () => {
    const before = sim.chatRequests().length;
    const starts: unknown[] = [];
    for (const sampling of [{ temperature: 0, topP: null, seed: null }, defaultSampling, undefined]) {
      const { events } = await collect(runChat(simRunOptions(sim, "demo", { messages: question, tools: [], ...(sampling ? { sampling } : {}) })));
      starts.push(events[0]);
    }
    expect(starts[0]).toMatchObject({ sampling: { temperature: 0 } });
    expect(starts[1]).not.toHaveProperty("sampling");
    expect(starts[2]).not.toHaveProperty("sampling");
    const [chosen, defaults, none] = sim.chatRequests().slice(before).map((r) => optionsOf(r.body));
    expect(chosen).toEqual({ temperature: 0 });
    expect(defaults).toEqual({});
    expect(none).toEqual({});
  });
});
