import http from "node:http";
import { performance } from "node:perf_hooks";
import { forEachLine } from "./lines.js";
import type { Protocol, StreamSink } from "./protocols.js";

/** One HTTP request of the load generator. */
export interface HttpCall {
  method: "GET" | "POST";
  url: string;
  body?: unknown;
  headers?: Record<string, string>;
}

/** How to reach one path: the streaming request (after any setup call, e.g. `chat.send`) and its format. */
export interface StreamTarget {
  /** `timeoutMs` bounds a setup call; the stream itself is bounded by the reader. */
  open(prompt: string, agent: http.Agent, timeoutMs: number): Promise<HttpCall>;
  protocol: Protocol;
}

export interface StreamResult {
  ok: boolean;
  error: string | null;
  text: string;
  /** Events that carried answer text (fewer than tokens when the server coalesces). */
  tokenEvents: number;
  otherEvents: number;
  /** performance.now() timestamps in the bench process. */
  startedAt: number;
  firstTokenAt: number | null;
  endedAt: number;
  /** Arrival time of each expected token (only when `expectedTokens` was given); coalesced tokens share one. */
  arrivals: number[];
}

export interface ReadOptions {
  agent: http.Agent;
  timeoutMs: number;
  /** The exact tokens the model sends: the delivered text must equal their concatenation. */
  expectedTokens: readonly string[];
  /** Record when each expected token arrived (paced runs). */
  recordArrivals?: boolean;
  /** Called once when the streaming response's headers arrived. */
  onHeaders?: () => void;
  /** Called once when the first answer text arrived. */
  onFirstToken?: () => void;
}

function send(call: HttpCall, agent: http.Agent, signal: AbortSignal): http.ClientRequest {
  const body = call.body === undefined ? undefined : JSON.stringify(call.body);
  const headers: Record<string, string> = { ...call.headers };
  if (body !== undefined) {
    headers["content-type"] = "application/json";
    headers["content-length"] = String(Buffer.byteLength(body));
  }
  const req = http.request(call.url, { method: call.method, agent, headers, signal });
  req.end(body);
  return req;
}

/** A small JSON request/response (setup calls such as `chat.send`), bounded by `timeoutMs`. */
export function requestJson(call: HttpCall, agent: http.Agent, timeoutMs = 30_000): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const req = send(call, agent, AbortSignal.timeout(timeoutMs));
    req.on("error", reject);
    req.on("response", (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => (text += chunk));
      res.on("error", reject);
      res.on("end", () => {
        if (res.statusCode !== 200) return reject(new Error(`${call.url} → HTTP ${res.statusCode}: ${text.slice(0, 300)}`));
        try {
          resolve(JSON.parse(text));
        } catch {
          reject(new Error(`${call.url} → not JSON: ${text.slice(0, 300)}`));
        }
      });
    });
  });
}

/**
 * Opens one stream, decodes it with the target's protocol and verifies the delivered text is exactly the
 * expected tokens in order. Never rejects: every failure (HTTP status, socket error, timeout, bad event,
 * wrong text, missing end) comes back as `ok: false` with a reason, so a run can count its errors.
 */
export async function readStream(target: StreamTarget, prompt: string, opts: ReadOptions): Promise<StreamResult> {
  const startedAt = performance.now();
  const expectedText = opts.expectedTokens.join("");
  const arrivals: number[] = [];
  // Token boundaries in the expected text, to stamp each token's arrival even when events coalesce tokens.
  let nextToken = 0;
  let nextBoundary = opts.expectedTokens[0]?.length ?? Number.POSITIVE_INFINITY;

  const result: StreamResult = {
    ok: false,
    error: null,
    text: "",
    tokenEvents: 0,
    otherEvents: 0,
    startedAt,
    firstTokenAt: null,
    endedAt: startedAt,
    arrivals,
  };
  const finish = (error: string | null): StreamResult => {
    result.endedAt = performance.now();
    if (error === null && result.text !== expectedText) error = describeMismatch(result.text, expectedText);
    result.error = error;
    result.ok = error === null;
    return result;
  };

  let call: HttpCall;
  try {
    call = await target.open(prompt, opts.agent, opts.timeoutMs);
  } catch (err) {
    return finish(`setup failed: ${(err as Error).message}`);
  }

  return new Promise<StreamResult>((resolve) => {
    let settled = false;
    let ended: { ok: true } | { ok: false; error: string } | null = null;
    const settle = (error: string | null) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(finish(error));
    };
    const timer = setTimeout(() => {
      settle(`timeout after ${opts.timeoutMs} ms (${result.tokenEvents} token events received)`);
      req.destroy();
    }, opts.timeoutMs);

    const sink: StreamSink = {
      token(text) {
        if (result.firstTokenAt === null) {
          result.firstTokenAt = performance.now();
          opts.onFirstToken?.();
        }
        result.tokenEvents++;
        result.text += text;
        if (opts.recordArrivals) {
          const now = performance.now();
          while (result.text.length >= nextBoundary) {
            arrivals.push(now);
            nextToken++;
            nextBoundary += opts.expectedTokens[nextToken]?.length ?? Number.POSITIVE_INFINITY;
          }
        }
      },
      other() {
        result.otherEvents++;
      },
      end(outcome) {
        if (ended === null) ended = outcome;
      },
    };
    const decode = target.protocol(sink);

    const req = send(call, opts.agent, AbortSignal.timeout(opts.timeoutMs + 1_000));
    req.on("error", (err) => settle(`request failed: ${err.message}`));
    req.on("response", (res) => {
      if (res.statusCode !== 200) {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => (body += chunk));
        res.on("end", () => settle(`HTTP ${res.statusCode}: ${body.slice(0, 200)}`));
        res.on("error", (err) => settle(`HTTP ${res.statusCode}: ${err.message}`));
        return;
      }
      opts.onHeaders?.();
      res.on("error", (err) => settle(`response failed: ${err.message}`));
      forEachLine(res, decode, () => {
        if (ended === null) settle("stream ended without a done event");
        else settle(ended.ok ? null : `stream reported error: ${ended.error}`);
      });
    });
  });
}

function describeMismatch(actual: string, expected: string): string {
  let i = 0;
  while (i < actual.length && i < expected.length && actual[i] === expected[i]) i++;
  return (
    `delivered text differs from the tokens sent at char ${i} (got ${actual.length} chars, expected ` +
    `${expected.length}): got ${JSON.stringify(actual.slice(i, i + 30))}, expected ${JSON.stringify(expected.slice(i, i + 30))}`
  );
}
