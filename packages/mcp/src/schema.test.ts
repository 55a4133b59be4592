import { validateToolCall, defineTool } from "@streamchat/core";
import { describe, expect, it } from "vitest";
import { InputSchemaCompiler, modelSchema } from "./schema.js";

function inputOf(schema: unknown) {
  const check = new InputSchemaCompiler().compile(schema);
  if (!check.ok) throw new Error(check.reason);
  return check.input;
}

describe("InputSchemaCompiler", () => {
  it("validates a draft-07 schema with $ref to definitions, as zod-to-json-schema writes them", () => {
    const input = inputOf({
      $schema: "http://json-schema.org/draft-07/schema#",
      type: "object",
      definitions: { point: { type: "object", properties: { x: { type: "number" } }, required: ["x"] } },
      properties: { from: { $ref: "#/definitions/point" }, to: { $ref: "#/definitions/point" } },
      required: ["from"],
      additionalProperties: false,
    });
    expect(input.safeParse({ from: { x: 1 }, to: { x: 2 } }).success).toBe(true);
    const bad = input.safeParse({ from: { x: "1" }, extra: 1 });
    expect(bad.success).toBe(false);
    expect(bad.error?.issues.map((i) => [i.path.join("."), i.message])).toEqual([
      ["", 'must not have the property "extra"'],
      ["from.x", "must be number"],
    ]);
  });

  it("validates 2020-12 ($defs, a recursive $ref, if/then, formats): what zod's fromJSONSchema could not", () => {
    const input = inputOf({
      type: "object",
      $defs: { node: { type: "object", properties: { name: { type: "string" }, children: { type: "array", items: { $ref: "#/$defs/node" } } } } },
      properties: { tree: { $ref: "#/$defs/node" }, kind: { enum: ["url", "text"] }, value: { type: "string" } },
      if: { properties: { kind: { const: "url" } } },
      then: { properties: { value: { format: "uri" } } },
    });
    expect(input.safeParse({ tree: { name: "a", children: [{ name: "b" }] }, kind: "url", value: "https://example.com" }).success).toBe(true);
    expect(input.safeParse({ tree: { name: "a", children: [{ name: 2 }] } }).error?.issues[0]).toMatchObject({
      path: ["tree", "children", "0", "name"],
      message: "must be string",
    });
    expect(input.safeParse({ kind: "url", value: "not a uri" }).error?.issues[0]).toMatchObject({ path: ["value"] });
    expect(input.safeParse({ kind: "mail" }).error?.issues[0]?.message).toBe('must be one of "url", "text"');
  });

  it("compiles tools of one listing whose schemas share an $id (each validates with its own)", () => {
    // Schema generators name every input the same; ajv registered each compiled $id and refused the second tool.
    const compiler = new InputSchemaCompiler();
    const first = compiler.compile({
      $id: "https://example.com/tool-input",
      type: "object",
      $defs: { x: { type: "string" } },
      properties: { x: { $ref: "https://example.com/tool-input#/$defs/x" }, self: { $ref: "#" } },
    });
    const second = compiler.compile({ $id: "https://example.com/tool-input", type: "object", $defs: { x: { type: "number" } }, properties: { y: { $ref: "#/$defs/x" } }, required: ["y"] });
    if (!first.ok || !second.ok) throw new Error(`not compiled: ${JSON.stringify({ first, second })}`);
    expect(first.input.safeParse({ x: "a", self: { x: "b" } }).success).toBe(true);
    expect(first.input.safeParse({ self: { x: 1 } }).error?.issues[0]).toMatchObject({ path: ["self", "x"], message: "must be string" });
    expect(second.input.safeParse({ y: 1 }).success).toBe(true);
    expect(second.input.safeParse({ y: "1" }).error?.issues[0]).toMatchObject({ path: ["y"], message: "must be number" });
  });

  it("never changes the arguments (no defaults filled in, nothing removed)", () => {
    const input = inputOf({ type: "object", properties: { n: { type: "number", default: 3 } } });
    const args = { m: "kept" };
    const parsed = input.safeParse(args);
    expect(parsed.success && parsed.data).toEqual({ m: "kept" });
  });

  it("refuses schemas that are broken or not object schemas, saying why", () => {
    const compiler = new InputSchemaCompiler();
    expect(compiler.compile({ type: "object", properties: { x: { type: "nonsense" } } })).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/^its inputSchema is not a valid JSON Schema: schema is invalid: /),
    });
    expect(compiler.compile({ type: "object", properties: { x: { $ref: "#/$defs/missing" } } })).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/can't resolve reference #\/\$defs\/missing/),
    });
    expect(compiler.compile({ type: "string" })).toEqual({ ok: false, reason: 'its inputSchema does not have "type": "object"' });
    expect(compiler.compile("x")).toEqual({ ok: false, reason: "its inputSchema is not a JSON object" });
  });

  it("follows a top-level $ref (a chain of them too) to an object schema; refuses cycles and what is not there", () => {
    const chained = { $ref: "#/$defs/A", $defs: { A: { $ref: "#/$defs/B" }, B: { type: "object", properties: { q: { type: "string" } }, required: ["q"] } } };
    const input = inputOf(chained);
    expect(input.safeParse({ q: "x" }).success).toBe(true);
    expect(input.safeParse({}).success).toBe(false);
    expect(modelSchema(chained)).toEqual({ type: "object", properties: { q: { type: "string" } }, required: ["q"], $defs: chained.$defs });
    const compiler = new InputSchemaCompiler();
    expect(compiler.compile({ $ref: "#/$defs/A", $defs: { A: { $ref: "#/$defs/A" } } })).toEqual({ ok: false, reason: 'its inputSchema\'s top-level $ref "#/$defs/A" refers to itself' });
    expect(compiler.compile({ $ref: "#/$defs/a~1b", $defs: { "a/b": { type: "object" } } })).toMatchObject({ ok: true });
    expect(compiler.compile({ $ref: "#" })).toEqual({ ok: false, reason: 'its inputSchema\'s top-level $ref "#" refers to itself' });
  });

  it("plugs into the core's validateToolCall: bad arguments become invalid_tool_args naming each problem", () => {
    const tool = defineTool({
      name: "srv__add",
      description: "",
      input: inputOf({ type: "object", properties: { a: { type: "number" }, b: { type: "number" } }, required: ["a", "b"] }),
      execute: () => 0,
    });
    expect(validateToolCall([tool], { id: "c1", name: "srv__add", args: { a: "1" } })).toEqual({
      ok: false,
      error: { code: "invalid_tool_args", message: "Invalid arguments for srv__add: must have required property 'b'; a: must be number" },
    });
    expect(validateToolCall([tool], { id: "c1", name: "srv__add", args: { a: 1, b: 2 } })).toMatchObject({ ok: true, args: { a: 1, b: 2 } });
  });
});
