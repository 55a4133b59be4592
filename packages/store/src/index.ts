export { openSqliteStore } from "./sqlite.js";
export type { SqliteChatStore, SqliteStoreOptions, SqliteStoreStats } from "./sqlite.js";
export { createMemoryStore } from "./memory.js";
export type { MemoryChatStore, MemoryStoreOptions } from "./memory.js";
export { migrations, migrate, latestVersion } from "./migrations.js";
export type { Migration } from "./migrations.js";
export { StoreError, isStoreError } from "./errors.js";
export type { StoreErrorCode } from "./errors.js";
export type * from "./types.js";
