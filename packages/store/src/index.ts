export { openSqliteStore } from "./sqlite.js";
export type { SqliteChatStore, SqliteStoreOptions, SqliteStoreStats } from "./sqlite.js";
export { openPostgresStore } from "./postgres/store.js";
export type { PostgresChatStore, PostgresStoreOptions, PostgresStoreStats } from "./postgres/store.js";
export { migratePostgres, migrationWaitMessage, type MigrationLockHolder } from "./postgres/migrate.js";
export { postgresMigrations } from "./postgres/schema.js";
export { createMemoryStore } from "./memory.js";
export type { MemoryChatStore, MemoryStoreOptions } from "./memory.js";
export { migrations, migrate, latestVersion } from "./migrations.js";
export type { Migration } from "./migrations.js";
export { defaultFlushIntervalMs, type EventBatcherStats } from "./event-batcher.js";
export { StoreError, isStoreError } from "./errors.js";
export { newRecordId } from "./ids.js";
export type { StoreErrorCode, ConflictReason } from "./errors.js";
export type * from "./types.js";
export { MessageTree, questionToRegenerate } from "./tree.js";
export type { TreeNode } from "./tree.js";
export { exportConversation, buildConversationExport } from "./export/export.js";
export type { ExportFormat, ExportedFile, ExportOptions } from "./export/export.js";
export { importConversation, parseConversationExport, defaultImportMaxBytes } from "./export/import.js";
export type { ImportOptions, ImportedConversation } from "./export/import.js";
export { branchConversation, branchTitle, branchTitlePrefix, BranchError, isBranchError } from "./export/branch.js";
export type { BranchOptions, BranchRefusal } from "./export/branch.js";
export { conversationMarkdown } from "./export/markdown.js";
export {
  conversationExportSchema,
  conversationExportFormat,
  conversationExportVersion,
} from "./export/schema.js";
export type { ConversationExport, ExportedMessage, ExportedRun, ExportedEvent } from "./export/schema.js";
export { ImportError, isImportError } from "./export/errors.js";
export type { ImportErrorReason } from "./export/errors.js";
