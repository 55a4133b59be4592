import type { Scenario } from "@streamchat/ollama-sim";

/**
 * A model answer far larger than any socket's buffers (4,000 chunks of 8 KB: ~32 MB by default), for the tests of a
 * reader that stops reading: the scenario that streams it as fast as the API reads, and the text it must add up to
 * (built when asked for: a 32 MB string held while the answer streams would be in the heap the tests measure).
 */
export function floodAnswer(marker: string, chunks = 4000, chunkChars = 8000): { scenario: Scenario; text: () => string } {
  const chunk = "x".repeat(chunkChars);
  const content = (i: number) => `${i}:${chunk}`;
  return {
    scenario: {
      name: `flood ${marker}`,
      match: { lastUserIncludes: marker },
      respond: function* () {
        for (let i = 0; i < chunks; i++) yield { content: content(i) };
        yield { done: true };
      },
    },
    text: () => Array.from({ length: chunks }, (_, i) => content(i)).join(""),
  };
}
