#!/usr/bin/env bash
# Writes src/test-support/fixtures/v1-chat.sqlite with the store as shipped at schema version 1 (commit c5a54c9, the
# synchronous SQLite store), so migrations.test.ts upgrades a database the old code really wrote.
# Run from anywhere inside the repository; needs git, node 24 and tsx (root devDependency).
set -euo pipefail
cd "$(dirname "$0")/.."
old="$(mktemp -d)"
trap 'rm -rf "$old"' EXIT
git -C "$(git rev-parse --show-toplevel)" archive c5a54c9 packages/store/src | tar -x -C "$old"
out="$PWD/src/test-support/fixtures/v1-chat.sqlite"
rm -f "$out" "$out-wal" "$out-shm"
cat >"$old/packages/store/src/make.ts" <<'TS'
import { openSqliteStore } from "./sqlite.js";
const out = process.argv[2]!;
let t = 1_700_000_000_000;
const store = openSqliteStore({ path: out, now: () => (t += 1000) });
store.createConversation({ id: "c1", userId: "alice", title: "Trip to Tokyo" });
store.createConversation({ id: "c2", userId: "bob", title: "Maths" });
store.appendMessage({ conversationId: "c1", runId: "r1", message: { role: "user", content: "What time is it in TOKYO?" } });
store.createRun({ id: "r1", conversationId: "c1", userId: "alice", model: "demo", provider: "sim", clientRequestId: "req-1" });
store.appendEvent("r1", { type: "run-start", runId: "r1", at: t, conversationId: "c1", model: "demo", provider: "sim" });
store.appendEvent("r1", { type: "token", runId: "r1", at: t, text: "It is 14:05 in Tokyo." });
store.appendEvent("r1", { type: "done", runId: "r1", at: t, reason: "stop", usage: null as never });
store.appendMessage({ conversationId: "c1", runId: "r1", message: { role: "assistant", content: "It is 14:05 in Tokyo." } });
store.finishRun("r1", { reason: "stop", usage: null });
// v1 allowed two running runs in one conversation; migration 2 keeps the newest running.
store.appendMessage({ conversationId: "c2", runId: "r2", message: { role: "user", content: "What is 12*7?" } });
store.createRun({ id: "r2", conversationId: "c2", userId: "bob", model: "demo", provider: "sim" });
store.appendEvent("r2", { type: "token", runId: "r2", at: t, text: "Let me" });
store.createRun({ id: "r3", conversationId: "c2", userId: "bob", model: "demo", provider: "sim", clientRequestId: "req-3" });
store.appendEvent("r3", { type: "token", runId: "r3", at: t, text: "84" });
store.close();
TS
(cd "$old/packages/store" && ln -s "$OLDPWD/node_modules" node_modules && tsx src/make.ts "$out")
echo "wrote $out ($(wc -c <"$out") bytes)"
