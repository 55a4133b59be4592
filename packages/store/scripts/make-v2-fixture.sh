#!/usr/bin/env bash
# Writes src/test-support/fixtures/v2-chat.sqlite with the store as shipped at schema version 2 (commit 9d08bd2, the
# asynchronous store before conversation versions), so migrations.test.ts upgrades to v3 (message trees) a database
# the old code really wrote: linear conversations with tool rounds, an edit and a regenerate that deleted messages
# (gaps in the ids), runs with events and usage, and an empty conversation.
# Run from anywhere inside the repository; needs git, node 24 and tsx (root devDependency).
set -euo pipefail
cd "$(dirname "$0")/.."
old="$(mktemp -d)"
trap 'rm -rf "$old"' EXIT
git -C "$(git rev-parse --show-toplevel)" archive 9d08bd2 packages/store/src packages/store/package.json | tar -x -C "$old"
out="$PWD/src/test-support/fixtures/v2-chat.sqlite"
rm -f "$out" "$out-wal" "$out-shm"
cat >"$old/packages/store/src/make.ts" <<'TS'
import { openSqliteStore } from "./sqlite.js";
const out = process.argv[2]!;
let t = 1_700_000_000_000;
const store = openSqliteStore({ path: out, now: () => (t += 1000) });
// Appends other than `done` are left to their batch (the flush timer does not keep the process alive); a `done`
// commits its batch at once, and close() commits the rest.
const usage = { promptTokens: 12, completionTokens: 8, ttftMs: 40, durationMs: 900, loadMs: null, tokensPerSecond: 9.5 };
const say = (conversationId: string, runId: string | null, message: Parameters<typeof store.appendMessage>[0]["message"]) =>
  store.appendMessage({ conversationId, runId, message });

await store.createConversation({ id: "c1", userId: "alice", title: "Trip to Tokyo" });
await store.createConversation({ id: "c2", userId: "bob", title: "Maths" });
await store.createConversation({ id: "c3", userId: "alice", title: "Empty" });

// c1: a run with a tool round, then a second question that was edited (chat.edit deleted it and its answer).
await store.createRun({ id: "r1", conversationId: "c1", userId: "alice", model: "demo", provider: "sim", clientRequestId: "req-1", owner: "replica-a" });
await say("c1", "r1", { role: "user", content: "What time is it in TOKYO?" });
// bob asks meanwhile: the two conversations' ids interleave.
await store.createRun({ id: "r4", conversationId: "c2", userId: "bob", model: "demo", provider: "sim" });
await say("c2", "r4", { role: "user", content: "What is 12*7?" });
void store.appendEvent("r1", 1, { type: "run-start", runId: "r1", at: t, conversationId: "c1", model: "demo", provider: "sim" });
void store.appendEvent("r1", 2, { type: "tool-call", runId: "r1", at: t, callId: "t1", name: "current_time", args: { timeZone: "Asia/Tokyo" } });
void store.appendEvent("r1", 3, { type: "tool-result", runId: "r1", at: t, callId: "t1", name: "current_time", ok: true, result: { iso: "2026-01-01T05:05:00Z" }, durationMs: 3 });
void store.appendEvent("r1", 4, { type: "token", runId: "r1", at: t, text: "It is 14:05 in Tokyo." });
await store.appendEvent("r1", 5, { type: "done", runId: "r1", at: t, reason: "stop", usage });
await say("c1", "r1", { role: "assistant", content: "", toolCalls: [{ id: "t1", name: "current_time", args: { timeZone: "Asia/Tokyo" } }] });
await say("c1", "r1", { role: "tool", toolCallId: "t1", toolName: "current_time", content: '{"iso":"2026-01-01T05:05:00Z"}' });
await say("c1", "r1", { role: "assistant", content: "It is 14:05 in Tokyo.", thinking: "Use the tool." });
await store.finishRun("r1", { reason: "stop", usage });

await store.createRun({ id: "r2", conversationId: "c1", userId: "alice", model: "demo", provider: "sim" });
const typo = await say("c1", "r2", { role: "user", content: "And in Osaka?" });
await say("c1", "r2", { role: "assistant", content: "Osaka is in the same time zone." });
await store.appendEvent("r2", 1, { type: "done", runId: "r2", at: t, reason: "stop", usage });
await store.finishRun("r2", { reason: "stop", usage });
await store.deleteMessagesFrom("c1", typo.id); // chat.edit
await store.createRun({ id: "r3", conversationId: "c1", userId: "alice", model: "demo", provider: "sim" });
await say("c1", "r3", { role: "user", content: "And in Kyoto?" });
await say("c1", "r3", { role: "assistant", content: "Kyoto is in the same time zone too." });
await store.appendEvent("r3", 1, { type: "done", runId: "r3", at: t, reason: "stop", usage });
await store.finishRun("r3", { reason: "stop", usage });

// c2: an answer regenerated (chat.regenerate deleted the first answer).
const wrong = await say("c2", "r4", { role: "assistant", content: "82" });
await store.finishRun("r4", { reason: "stop", usage: null });
await store.deleteMessagesFrom("c2", wrong.id);
await store.createRun({ id: "r5", conversationId: "c2", userId: "bob", model: "demo", provider: "sim" });
await say("c2", "r5", { role: "assistant", content: "84" });
await store.finishRun("r5", { reason: "stop", usage: null });

await store.close();
TS
(cd "$old/packages/store" && ln -s "$OLDPWD/node_modules" node_modules && tsx src/make.ts "$out")
echo "wrote $out ($(wc -c <"$out") bytes)"
