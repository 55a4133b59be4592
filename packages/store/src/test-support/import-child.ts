/**
 * A process that imports one export file, as the API does: import-crash.test.ts kills it with SIGKILL half-way.
 *
 *   node --conditions=source --import tsx import-child.ts sqlite <path> <file> <userId>
 *   node --conditions=source --import tsx import-child.ts postgres <url> <file> <userId> <applicationName>
 *
 * Prints "importing" once the store is open and the file read (what is left is the import itself), then
 * "imported <conversationId>" if it gets that far.
 */
import { readFileSync } from "node:fs";
import { importConversation } from "../export/import.js";
import { openPostgresStore } from "../postgres/store.js";
import { openSqliteStore } from "../sqlite.js";
import type { ChatStore } from "../types.js";

const [kind, target, file, userId, applicationName] = process.argv.slice(2);
if (!target || !file || !userId || (kind !== "sqlite" && kind !== "postgres")) {
  process.stderr.write("usage: import-child.ts sqlite|postgres <path|url> <file> <userId> [applicationName]\n");
  process.exit(2);
}
const store: ChatStore =
  kind === "sqlite" ? openSqliteStore({ path: target }) : await openPostgresStore({ url: target, applicationName, migrate: false });
const content = readFileSync(file, "utf8");
process.stdout.write("importing\n");
const { conversationId } = await importConversation(store, userId, content, { maxBytes: 64 * 1024 * 1024 });
process.stdout.write(`imported ${conversationId}\n`);
await store.close();
