export * from "./events.js";
export * from "./errors.js";
export type * from "./model.js";
