import type { ChatEvent } from "@streamchat/core";

/**
 * A continued answer's events without the answer so far: `chat.continue` tells it between `run-start` and the run's
 * first `status`, and the terminal shows it already (the answer that was stopped is on the screen above).
 */
export async function* withoutAnswerSoFar(events: AsyncIterable<ChatEvent>): AsyncGenerator<ChatEvent, void, undefined> {
  let told = false;
  for await (const event of events) {
    if (!told && event.type !== "run-start") {
      if (event.type === "reasoning" || event.type === "token" || event.type === "tool-call" || event.type === "tool-result") continue;
      told = true;
    }
    yield event;
  }
}
