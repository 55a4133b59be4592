import { Ajv, type ErrorObject, type ValidateFunction } from "ajv";
import { Ajv2019 } from "ajv/dist/2019.js";
import { Ajv2020 } from "ajv/dist/2020.js";
import formatsModule from "ajv-formats";
import { z } from "zod";
import { isRecord } from "./records.js";
import { resolveTopRef } from "./schema-ref.js";

// ajv-formats is CommonJS: its function is module.exports, and also module.exports.default (what TS sees).
const addFormats = formatsModule.default;

export type ToolArgs = Record<string, unknown>;

/**
 * Validates tool arguments against an MCP tool's inputSchema with ajv. (zod 4.6's z.fromJSONSchema was
 * tried first: it refuses if/then/else and does not follow a recursive "$ref": "#", both found in real
 * servers' schemas.) Arguments are never changed: no defaults filled in, no coercion, nothing removed,
 * so the server receives exactly what the model sent.
 */
export type InputSchemaCheck = { ok: true; input: z.ZodType<ToolArgs> } | { ok: false; reason: string };

type Dialect = "2020-12" | "2019-09" | "draft-07";

/**
 * Compiles the schemas of one tool listing. One compiler per listing: ajv keeps every schema it compiled,
 * so a long-lived one would grow with each `tools/list_changed`.
 */
export class InputSchemaCompiler {
  private readonly instances = new Map<Dialect, Ajv>();

  compile(schema: unknown): InputSchemaCheck {
    if (typeof schema !== "object" || schema === null || Array.isArray(schema)) {
      return { ok: false, reason: "its inputSchema is not a JSON object" };
    }
    const { $schema, ...rest } = schema as Record<string, unknown>;
    // A top-level $ref is followed to see what the input is; ajv below follows it itself.
    const top = resolveTopRef(rest);
    if (top && !top.ok) return { ok: false, reason: top.reason };
    // The model is sent an object of arguments; OpenAI refuses function parameters of any other type.
    if ((top?.schema ?? rest)["type"] !== "object") return { ok: false, reason: 'its inputSchema does not have "type": "object"' };
    let validate: ValidateFunction;
    try {
      validate = this.instance(dialectOf($schema)).compile(rest);
    } catch (error) {
      return { ok: false, reason: `its inputSchema is not a valid JSON Schema: ${error instanceof Error ? error.message : String(error)}` };
    }
    const input = z.unknown().superRefine((value, ctx) => {
      if (validate(value)) return;
      for (const issue of (validate.errors ?? []).slice(0, 20)) ctx.addIssue({ code: "custom", path: pathOf(issue), message: messageOf(issue) });
    }) as unknown as z.ZodType<ToolArgs>;
    return { ok: true, input };
  }

  private instance(dialect: Dialect): Ajv {
    let ajv = this.instances.get(dialect);
    if (!ajv) {
      // strict: false accepts the keywords servers add (examples, x-…, title on everything); the schema itself
      // is still checked against its meta-schema, so a broken one is refused at compile time. addUsedSchema false:
      // a compiled schema's $id is not registered in the instance, so two tools whose schemas share an $id (schema
      // generators give every input the same one) both compile; a schema's references to its own $id still resolve.
      const options = { strict: false, allErrors: true, validateSchema: true, logger: false, addUsedSchema: false } as const;
      ajv = dialect === "draft-07" ? new Ajv(options) : dialect === "2019-09" ? new Ajv2019(options) : new Ajv2020(options);
      addFormats(ajv);
      this.instances.set(dialect, ajv);
    }
    return ajv;
  }
}

/** MCP: a schema without "$schema" is JSON Schema 2020-12. */
function dialectOf($schema: unknown): Dialect {
  if (typeof $schema !== "string") return "2020-12";
  if ($schema.includes("2019-09")) return "2019-09";
  if (/draft-0[4-7]/.test($schema)) return "draft-07";
  return "2020-12";
}

function pathOf(issue: ErrorObject): string[] {
  const path = issue.instancePath
    .split("/")
    .slice(1)
    .map((part) => part.replace(/~1/g, "/").replace(/~0/g, "~"));
  return path;
}

function messageOf(issue: ErrorObject): string {
  const params = issue.params as Record<string, unknown>;
  if (issue.keyword === "additionalProperties" && typeof params["additionalProperty"] === "string") {
    return `must not have the property "${params["additionalProperty"]}"`;
  }
  if (issue.keyword === "enum" && Array.isArray(params["allowedValues"])) {
    return `must be one of ${params["allowedValues"].map((v) => JSON.stringify(v)).join(", ")}`;
  }
  return issue.message ?? "is not valid";
}

/**
 * Keywords OpenAI's and Anthropic's APIs refuse at the top of a function's parameters ("schema must have type 'object'
 * and not have 'oneOf'/'anyOf'/'allOf'/'enum'/'not' at the top level"). They refuse the whole request, so one such
 * tool of one server would fail every run that offers it, whatever the model was asked.
 */
const refusedAtTop = ["oneOf", "anyOf", "allOf", "not", "enum", "const"] as const;

/**
 * The parameters schema the model is sent for an (object) inputSchema: the schema itself, or, when it combines
 * variants at its top level, the schema without those keywords and with every variant's properties merged into its
 * own (the model still learns each argument; a property the schema itself defines wins). Arguments are validated
 * against the whole inputSchema all the same: a combination the variants do not allow is invalid_tool_args, naming why.
 */
export function modelSchema(given: Record<string, unknown>): Record<string, unknown> {
  // Model APIs want the object schema itself at the top, not a reference to it (schema-ref.ts).
  const top = resolveTopRef(given);
  const inputSchema = top?.ok ? top.schema : given;
  if (!refusedAtTop.some((key) => key in inputSchema)) return inputSchema;
  const rest: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(inputSchema)) {
    if (!(refusedAtTop as readonly string[]).includes(key)) rest[key] = value;
  }
  const properties: Record<string, unknown> = { ...(isRecord(rest["properties"]) ? rest["properties"] : {}) };
  const required = new Set(Array.isArray(rest["required"]) ? rest["required"].filter((r): r is string => typeof r === "string") : []);
  for (const keyword of ["allOf", "anyOf", "oneOf"] as const) {
    const variants = inputSchema[keyword];
    if (!Array.isArray(variants)) continue;
    for (const variant of variants) {
      if (!isRecord(variant)) continue;
      if (isRecord(variant["properties"])) {
        for (const [name, schema] of Object.entries(variant["properties"])) if (!(name in properties)) properties[name] = schema;
      }
      // Every variant of allOf applies: what one requires is required. Of anyOf/oneOf only one does.
      if (keyword === "allOf" && Array.isArray(variant["required"])) {
        for (const name of variant["required"]) if (typeof name === "string") required.add(name);
      }
    }
  }
  const schema: Record<string, unknown> = { ...rest, properties };
  if (required.size > 0) schema["required"] = [...required];
  return schema;
}
