// Run in a process of its own by cleanup.test.ts: what is left running after each way of stopping, without the
// test's own API server and runner in the count. Prints one JSON line per case.
import { createChatClient } from "../client.js";

const [url, closedUrl] = process.argv.slice(2) as [string, string];
const client = createChatClient({ url });
const long = "Explain closures in JavaScript";

/** Resources of this process, less this file's own wait and the pipes of its stdio. */
const active = () => process.getActiveResourcesInfo().filter((type) => type !== "Immediate" && type !== "PipeWrap");

async function settled(): Promise<string[]> {
  // A socket being closed is counted until its close callback, a loop turn or more later on a loaded machine, and a
  // timer is cleared by what runs after it: looked at over ~50 ms, less than the client's first retry delay (200 ms),
  // so a retry timer left running is still there at the end. Turns of the loop, not timers, so that the wait itself
  // is not counted.
  const until = performance.now() + 50;
  let left = active();
  while (left.length > 0 && performance.now() < until) {
    await new Promise((resolve) => setImmediate(resolve));
    left = active();
  }
  return left;
}

async function outcome(run: () => Promise<unknown>): Promise<string> {
  try {
    await run();
    return "ok";
  } catch (error) {
    return error instanceof Error ? error.name : String(error);
  }
}

const cases: Record<string, () => Promise<unknown>> = {
  "stream to its end": async () => {
    for await (const event of client.stream("Hello")) void event;
  },
  "stream aborted": async () => {
    const abort = new AbortController();
    for await (const event of client.stream(long, { signal: abort.signal })) if (event.type === "token") abort.abort();
  },
  "break out of stream": async () => {
    for await (const event of client.stream(long)) if (event.type === "token") break;
  },
  "events aborted": async () => {
    const { runId } = await client.send(long);
    const abort = new AbortController();
    try {
      for await (const event of client.events(runId, { signal: abort.signal })) if (event.type === "token") abort.abort();
    } finally {
      await client.cancel(runId);
    }
  },
  "break out of events": async () => {
    const { runId } = await client.send(long);
    for await (const event of client.events(runId)) if (event.type === "token") break;
    await client.cancel(runId);
  },
  "complete aborted": async () => {
    const abort = new AbortController();
    const answer = client.complete(long, { signal: abort.signal });
    setTimeout(() => abort.abort(), 20);
    await answer;
  },
  "send aborted while retrying an unreachable server": async () => {
    const abort = new AbortController();
    setTimeout(() => abort.abort(), 50);
    await createChatClient({ url: closedUrl }).send("Hello", { signal: abort.signal });
  },
};

for (const [name, run] of Object.entries(cases)) {
  const started = Date.now();
  const result = await outcome(run);
  const ms = Date.now() - started;
  console.log(JSON.stringify({ name, result, ms, left: await settled() }));
}
