import type { inferRouterInputs } from "@trpc/server";
import { describe, expect, expectTypeOf, it } from "vitest";
import { z, ZodError } from "zod";
import { parsedSync } from "./input-schemas.js";
import type { AppRouter } from "./router/root.js";

describe("parsedSync", () => {
  const schema = z.object({ runId: z.string().min(1), lastEventId: z.string().regex(/^\d+$/).transform(Number).nullish() });

  it("parses as the schema does, synchronously, and throws its ZodError", () => {
    const input = parsedSync(schema);
    expect(input.parse({ runId: "r1", lastEventId: "12" })).toEqual({ runId: "r1", lastEventId: 12 });
    expect(() => input.parse({ runId: "" })).toThrow(ZodError);
    expect(input["~standard"]).toBe(schema["~standard"]);
  });

  it("leaves the clients the schema's own input types (tRPC reads the standard-schema types first)", () => {
    type Inputs = inferRouterInputs<AppRouter>;
    expectTypeOf<Inputs["chat"]["events"]>().toEqualTypeOf<{ runId: string; lastEventId?: string | null | undefined }>();
    expectTypeOf<Inputs["chat"]["send"]["message"]>().toEqualTypeOf<string>();
    expectTypeOf<Inputs["chat"]["send"]["conversationId"]>().toEqualTypeOf<string | null | undefined>();
  });
});
