/** Test helpers: talk to the simulator over real sockets and read exactly what it wrote. */
import { request, type IncomingMessage } from "node:http";

export interface RawResponse {
  status: number;
  headers: IncomingMessage["headers"];
  /** The body as the client's socket delivered it, one Buffer per 'data' event. */
  chunks: Buffer[];
  text: string;
}

/** POSTs (or GETs) with node:http on a fresh connection and collects the raw body chunks. */
export function rawRequest(url: string, path: string, body?: unknown, method = body === undefined ? "GET" : "POST"): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body);
    const req = request(`${url}${path}`, { method, agent: false, headers: payload ? { "Content-Type": "application/json" } : {} }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, chunks, text: Buffer.concat(chunks).toString("utf8") }));
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end(payload);
  });
}

export async function postJson(url: string, path: string, body: unknown): Promise<{ status: number; json: unknown; contentType: string | null }> {
  const res = await fetch(`${url}${path}`, { method: "POST", body: JSON.stringify(body) });
  return { status: res.status, json: await res.json(), contentType: res.headers.get("content-type") };
}

export type Line = Record<string, unknown> & {
  model?: string;
  created_at?: string;
  done?: boolean;
  error?: string;
  message?: { role: string; content: string; thinking?: string; tool_calls?: Array<{ id: string; function: { index: number; name: string; arguments: Record<string, unknown> } }> };
};

/** Streams /api/chat and parses every NDJSON line (throws on a line that is not JSON). */
export async function chatLines(url: string, body: Record<string, unknown>): Promise<Line[]> {
  const res = await rawRequest(url, "/api/chat", body);
  if (res.status !== 200) throw new Error(`status ${res.status}: ${res.text}`);
  return parseLines(res.text);
}

export function parseLines(text: string): Line[] {
  return text
    .split("\n")
    .filter((l) => l !== "")
    .map((l) => JSON.parse(l) as Line);
}

/** Parses an SSE body into its data payloads ("[DONE]" kept as the string). */
export function sseData(text: string): Array<Record<string, unknown> | "[DONE]"> {
  return text
    .split("\n\n")
    .filter((e) => e.startsWith("data: "))
    .map((e) => {
      const data = e.slice("data: ".length);
      return data === "[DONE]" ? "[DONE]" : (JSON.parse(data) as Record<string, unknown>);
    });
}

/** The answer text of an OpenAI-compatible SSE stream: every chunk's `delta.content`, joined. */
export function sseContentOf(text: string): string {
  return sseData(text)
    .map((d) => (d === "[DONE]" ? "" : ((d["choices"] as Array<{ delta?: { content?: string } }>)[0]?.delta?.content ?? "")))
    .join("");
}

export const user = (content: string) => [{ role: "user", content }];

export const allTools = ["current_time", "calculator", "search_conversations"].map((name) => ({
  type: "function",
  function: { name, description: `the ${name} tool`, parameters: { type: "object", properties: {} } },
}));

export function contentOf(lines: Line[]): string {
  return lines.map((l) => l.message?.content ?? "").join("");
}

export function thinkingOf(lines: Line[]): string {
  return lines.map((l) => l.message?.thinking ?? "").join("");
}
