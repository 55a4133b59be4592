import { chatEventSchema, type ChatEvent } from "@streamchat/core";
export const parse = (x: unknown): ChatEvent => chatEventSchema.parse(x);
