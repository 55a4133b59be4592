/**
 * A request body's JSON, with the tools' JSON Schemas serialized once per schema object instead of once per
 * request. Every round of every run sends the same few schemas (toolSpec shares one object per zod schema; an MCP
 * tool keeps the one its server listed), and they are most of a chat request's body, more so with every MCP tool a user
 * turns on: with 30 MCP-sized tools (a 36 KB body) a request's serialization went from ~58 to ~19 µs; with the three
 * built-in tools it saves well under a microsecond (docs/benchmarks-log.md, stop 66).
 */

import { schemaText } from "../schema-text.js";

/** A tool as Ollama's /api/chat and OpenAI's /chat/completions both take it. */
interface FunctionTool {
  type: "function";
  function: { name: string; description: string; parameters: object };
}

function isFunctionTool(value: unknown): value is FunctionTool {
  if (typeof value !== "object" || value === null || (value as { type?: unknown }).type !== "function") return false;
  const fn = (value as { function?: unknown }).function;
  if (typeof fn !== "object" || fn === null) return false;
  const { name, description, parameters } = fn as Record<string, unknown>;
  return (
    Object.keys(value).length === 2 &&
    Object.keys(fn).length === 3 &&
    typeof name === "string" &&
    typeof description === "string" &&
    typeof parameters === "object" &&
    parameters !== null &&
    !Array.isArray(parameters)
  );
}

function toolText(tool: FunctionTool): string {
  const { name, description, parameters } = tool.function;
  return `{"type":"function","function":{"name":${JSON.stringify(name)},"description":${JSON.stringify(description)},"parameters":${schemaText(parameters)}}}`;
}

/**
 * `JSON.stringify(body)`, except that a `tools` array of function tools comes last and each tool's schema is
 * serialized from the cache: `JSON.parse` of it equals `body`. Any other body (no tools, another shape) is
 * `JSON.stringify(body)` exactly.
 */
export function bodyJson(body: unknown): string {
  if (typeof body !== "object" || body === null || Array.isArray(body)) return JSON.stringify(body);
  const { tools, ...rest } = body as Record<string, unknown>;
  if (!Array.isArray(tools) || tools.length === 0 || !tools.every(isFunctionTool)) return JSON.stringify(body);
  const head = JSON.stringify(rest);
  const list = tools.map(toolText).join(",");
  return `${head.length === 2 ? "{" : `${head.slice(0, -1)},`}"tools":[${list}]}`;
}
