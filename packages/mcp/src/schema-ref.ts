import { isRecord } from "./records.js";

/**
 * Schema generators (pydantic, zod-to-json-schema with a name, schemars…) often write a tool's whole input as
 * `{ "$ref": "#/$defs/Input", "$defs": { "Input": { "type": "object", … } } }`. Validation follows the `$ref` by
 * itself (ajv), but model APIs want an object schema at the top of a function's parameters, so that reference is
 * followed here: to know the input is an object, and to send the model the object schema itself.
 */
export type TopRef = { ok: true; schema: Record<string, unknown> } | { ok: false; reason: string };

/** References in a row followed (a `$ref` to a `$ref`…) before giving up: a chain this long is a cycle or a mistake. */
const maxHops = 16;

/**
 * The schema with its top-level local `$ref` (`#/...`, e.g. `#/$defs/Input` or `#/definitions/Input`) replaced by
 * what it points at; undefined when its top level has no `$ref`. The document's `$defs` / `definitions` stay at the
 * top, so the references inside the target still resolve.
 */
export function resolveTopRef(schema: Record<string, unknown>): TopRef | undefined {
  if (!("$ref" in schema)) return undefined;
  let current: Record<string, unknown> = schema;
  const seen = new Set<string>();
  for (let hop = 0; hop < maxHops && "$ref" in current; hop++) {
    const ref = current["$ref"];
    if (typeof ref !== "string") return { ok: false, reason: "its inputSchema's top-level $ref is not a string" };
    if (ref === "#") return { ok: false, reason: `its inputSchema's top-level $ref "#" refers to itself` };
    if (!ref.startsWith("#/")) return { ok: false, reason: `its inputSchema's top-level $ref "${ref}" is not a reference into the schema itself` };
    if (seen.has(ref)) return { ok: false, reason: `its inputSchema's top-level $ref "${ref}" refers to itself` };
    seen.add(ref);
    const target = pointerTarget(schema, ref);
    if (!isRecord(target)) return { ok: false, reason: `its inputSchema's top-level $ref "${ref}" cannot be resolved` };
    const { $ref: _followed, ...siblings } = current;
    current = { ...siblings, ...target };
  }
  if ("$ref" in current) return { ok: false, reason: `its inputSchema's top-level $ref is a chain of more than ${maxHops} references` };
  // The root's definitions win over same-named ones of the target: the references inside point at the root's.
  for (const key of ["$defs", "definitions"] as const) {
    const root = schema[key];
    if (isRecord(root)) current[key] = { ...(isRecord(current[key]) ? current[key] : {}), ...root };
  }
  return { ok: true, schema: current };
}

/** RFC 6901 pointer in a URI fragment ("#/a/b~1c/%25"), read in `document`; undefined when a step is missing. */
function pointerTarget(document: unknown, ref: string): unknown {
  let value = document;
  for (const raw of ref.slice(2).split("/")) {
    let step: string;
    try {
      step = decodeURIComponent(raw).replace(/~1/g, "/").replace(/~0/g, "~");
    } catch {
      return undefined;
    }
    if (Array.isArray(value) && /^(0|[1-9][0-9]*)$/.test(step)) value = value[Number(step)];
    else if (isRecord(value) && Object.hasOwn(value, step)) value = value[step];
    else return undefined;
  }
  return value;
}
