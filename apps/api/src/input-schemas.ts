import { isStorableText } from "@streamchat/core";
import { z } from "zod";

/** Two different ids with unpaired surrogates could become one once stored: see core's storable-text.ts. */
export { isStorableText };

const storable = { error: "must not contain NUL or unpaired surrogate characters" } as const;

/** Conversation, run and client request ids, model names. */
export const idSchema = z.string().min(1).max(200).refine(isStorableText, storable);

/** A conversation title set by the user. */
export const titleSchema = z.string().trim().min(1).max(200).refine(isStorableText, storable);

/**
 * A zod schema as a procedure's input, parsed synchronously. tRPC calls a zod schema's `parseAsync` when it has one
 * (a promise and an async context per field: ~2.7 KB and ~0.8 µs more per call than `parse` for chat.send's and
 * chat.events' inputs, docs/benchmarks-log.md stop 58), and `parse` otherwise. The types come from the schema's
 * standard-schema interface, which tRPC reads first, so clients see the schema's own input and output types; a failed
 * parse throws the same ZodError. For schemas without async refinements or transforms (`parse` throws on those).
 */
export function parsedSync<S extends z.ZodType>(schema: S): Pick<S, "~standard"> & { parse(value: unknown): z.output<S> } {
  return { "~standard": schema["~standard"], parse: (value) => schema.parse(value) };
}
