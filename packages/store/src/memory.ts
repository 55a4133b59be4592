import { defaultSampling, isDefaultSampling, type ChatEvent, type ChatMessage, type DoneReason, type Sampling, type Usage } from "@streamchat/core";
import { StoreError, closedError, conflict } from "./errors.js";
import { checkInsertConversation, checkTime } from "./insert-conversation.js";
import { normalizeLimit } from "./limits.js";
import {
  containsFolded,
  searchedText,
  defaultConversationLimit,
  defaultSearchLimit,
  isSearchableRole,
  snippet,
} from "./search.js";
import type {
  ApprovalDecisionRecord,
  BranchOrigin,
  ChatStore,
  Conversation,
  ConversationSettings,
  CreateRunInput,
  PathMessage,
  RunRecord,
  SearchHit,
  StoredEvent,
  StoredMessage,
  ToolServerSetting,
  UserSettings,
} from "./types.js";
import { newRunRecord, runningLimit } from "./run-record.js";
import { changedSampling } from "./rows.js";
import { MessageTree } from "./tree.js";

export interface MemoryStoreOptions {
  now?: () => number;
}

export interface MemoryChatStore extends ChatStore {
  readonly kind: "memory";
}

interface ConversationEntry {
  conversation: Conversation;
  /** Creation order, the tie-break of listConversations (SQLite's rowid). */
  order: number;
  /** The last message of the active path. */
  headId: number | null;
  /** Where an import came from (insertConversation); null for every other conversation. Unique per user. */
  origin: string | null;
  /** For a branch (insertConversation's branchOf): the original, its answer, and the branch's copy of that answer. */
  branchOf: Omit<BranchOrigin, "title"> | null;
  /**
   * Its own settings (setConversationInstructions, setConversationSampling); null when never set. They go with the
   * entry when it is deleted.
   */
  settings: ConversationSettings | null;
}

interface MessageEntry {
  id: number;
  conversationId: string;
  parentId: number | null;
  runId: string | null;
  /** JSON, like the database stores: callers get copies and the same serialisation rules. */
  json: string;
  createdAt: number;
}

interface RunEntry {
  record: RunRecord;
  /** Ascending by seq (gaps allowed). */
  events: Array<{ seq: number; type: ChatEvent["type"]; json: string }>;
  /** chat.approve's decisions, by callId (they go with the run, as the database's cascade takes them). */
  decisions: Map<string, ApprovalDecisionRecord>;
}

const committed: Promise<void> = Promise.resolve();

/**
 * The same contract as the database stores, held in one process's memory: nothing survives the process, and the
 * invariants hold for this process only. Used by the benchmark to isolate the durable log's cost and by tests that
 * need a store but not a database. Every call completes synchronously; the promises are for the shared contract.
 */
export function createMemoryStore(options: MemoryStoreOptions = {}): MemoryChatStore {
  const now = options.now ?? Date.now;
  const conversations = new Map<string, ConversationEntry>();
  const messages = new Map<string, MessageEntry[]>(); // by conversation, in id order
  const runs = new Map<string, RunEntry>();
  const toolServerSettings = new Map<string, Map<string, ToolServerSetting>>(); // by user, then server
  const userSettings = new Map<string, UserSettings>(); // by user
  let nextMessageId = 1;
  let nextOrder = 1;
  let closed = false;

  function live(): void {
    if (closed) throw closedError();
  }

  function owned(userId: string, conversationId: string): ConversationEntry | undefined {
    const entry = conversations.get(conversationId);
    return entry?.conversation.userId === userId ? entry : undefined;
  }

  /** setPinned and setArchived: the time it was set, kept when set again (as the databases' COALESCE), or cleared. */
  function setStamp(userId: string, conversationId: string, field: "pinnedAt" | "archivedAt", on: boolean, at: number | undefined): Conversation | undefined {
    live();
    if (at !== undefined) checkTime(at, "at");
    const entry = owned(userId, conversationId);
    if (!entry) return undefined;
    entry.conversation[field] = on ? (entry.conversation[field] ?? at ?? now()) : null;
    return copy(entry.conversation);
  }

  // Indexes over `runs`, as the databases have theirs: a long-lived `:memory:` server must not scan every run it
  // ever started on each start. Each keeps creation order (insertion); a run leaves `runningRuns` when it finishes.
  const runsByConversation = new Map<string, Set<RunEntry>>();
  const runningRuns = new Set<RunEntry>();
  const runsByClientRequest = new Map<string, RunEntry>();
  const clientRequestKey = (userId: string, clientRequestId: string) => `${userId}\u0000${clientRequestId}`;

  function runsOf(conversationId: string): RunEntry[] {
    return [...(runsByConversation.get(conversationId) ?? [])];
  }

  function running(): RunEntry[] {
    return [...runningRuns];
  }

  function findByClientRequestId(userId: string, clientRequestId: string): RunEntry | undefined {
    return runsByClientRequest.get(clientRequestKey(userId, clientRequestId));
  }

  function indexRun(run: RunEntry): void {
    const { id, conversationId, userId, clientRequestId, status } = run.record;
    runs.set(id, run);
    let ofConversation = runsByConversation.get(conversationId);
    if (!ofConversation) runsByConversation.set(conversationId, (ofConversation = new Set()));
    ofConversation.add(run);
    if (status === "running") runningRuns.add(run);
    if (clientRequestId !== null) runsByClientRequest.set(clientRequestKey(userId, clientRequestId), run);
  }

  function dropRunsOf(conversationId: string): void {
    for (const run of runsOf(conversationId)) {
      const { id, userId, clientRequestId } = run.record;
      runs.delete(id);
      runningRuns.delete(run);
      if (clientRequestId !== null) runsByClientRequest.delete(clientRequestKey(userId, clientRequestId));
    }
    runsByConversation.delete(conversationId);
  }

  function finish(run: RunEntry, reason: DoneReason, usage: Usage | null): void {
    run.record = { ...run.record, status: "done", reason, usage: usage && copy(usage), finishedAt: now() };
    runningRuns.delete(run);
  }

  const copy = <T>(value: T): T => structuredClone(value);

  /** A conversation's settings where it has none (a fresh object: defaultSampling is shared). */
  const noSettings = (): ConversationSettings => ({ instructions: "", sampling: { ...defaultSampling }, updatedAt: null });

  /**
   * A new conversation's settings (insertConversation, startRun): none kept when they are the defaults, as the databases
   * write no row then.
   */
  function newSettings(at: number, instructions = "", sampling: Sampling = defaultSampling): ConversationSettings | null {
    return instructions === "" && isDefaultSampling(sampling) ? null : { instructions, sampling: { ...sampling }, updatedAt: at };
  }

  /**
   * setConversationInstructions and setConversationSampling: the user's conversation's settings with `change`, the
   * others kept. Not activity: the conversation's updatedAt stays.
   */
  function setSettings(
    userId: string,
    conversationId: string,
    change: (current: ConversationSettings) => Partial<ConversationSettings>,
  ): ConversationSettings {
    const entry = owned(userId, conversationId);
    if (!entry) throw new StoreError("not_found", `Unknown conversation ${conversationId}.`);
    const current = entry.settings ?? noSettings();
    entry.settings = { ...current, ...change(current), updatedAt: now() };
    return copy(entry.settings);
  }

  /** A user's settings where they have none. */
  const noUserSettings = (): UserSettings => ({ instructions: "", sampling: { ...defaultSampling }, updatedAt: null });

  /** setInstructions and setUserSampling: the user's settings with `change`, the others kept. */
  function setUserSettings(userId: string, change: (current: UserSettings) => Partial<UserSettings>): UserSettings {
    const current = userSettings.get(userId) ?? noUserSettings();
    const settings: UserSettings = { ...current, ...change(current), updatedAt: now() };
    userSettings.set(userId, settings);
    return copy(settings);
  }

  function toStoredMessage(entry: MessageEntry): StoredMessage {
    return {
      id: entry.id,
      conversationId: entry.conversationId,
      parentId: entry.parentId,
      runId: entry.runId,
      message: JSON.parse(entry.json) as ChatMessage,
      createdAt: entry.createdAt,
    };
  }

  function activePathOf(conversationId: string): PathMessage[] {
    const entry = conversations.get(conversationId);
    const list = messages.get(conversationId);
    if (!entry || !list) return [];
    const tree = new MessageTree(list);
    const path = tree.pathTo(entry.headId);
    const onPath = new Set(path);
    const byId = new Map(list.filter((message) => onPath.has(message.id)).map((message) => [message.id, toStoredMessage(message)]));
    return tree.withVersions(path, byId);
  }

  function messageOf(conversationId: string, messageId: number): MessageEntry | undefined {
    return messages.get(conversationId)?.find((entry) => entry.id === messageId);
  }

  /** The run an append of `seq` goes to; appendEvent's refusals. */
  function runOpenTo(runId: string, seq: number): RunEntry {
    if (!Number.isSafeInteger(seq) || seq < 1) throw new RangeError(`seq must be a positive integer (got ${seq}).`);
    const run = runs.get(runId);
    if (!run) throw new StoreError("not_found", `Unknown run ${runId}.`);
    const last = run.events.at(-1)?.seq ?? 0;
    if (seq <= last) throw conflict("seq", `Run ${runId}: seq ${seq} is not above ${last}, the last one in the log.`);
    return run;
  }

  function pushEvent(run: RunEntry, seq: number, event: ChatEvent): void {
    run.events.push({ seq, type: event.type, json: JSON.stringify(event) });
    if (event.type === "done" && run.record.status === "running") {
      // As the database stores do in the done's transaction: a log ending with done is a finished run.
      finish(run, event.reason, event.usage);
    }
  }

  /** Where appendMessage puts a message (see ChatStore.appendMessage); refuses a parent outside the conversation. */
  function parentOf(conversationId: string, head: number | null, parentId: number | null | undefined): number | null {
    const parent = parentId === undefined ? head : parentId;
    if (parent !== null && !messageOf(conversationId, parent)) {
      throw new StoreError("not_found", `Message ${parent} is not in conversation ${conversationId}.`);
    }
    return parent;
  }

  /** Appends under `parent` (checked by parentOf) and makes the message the head. */
  function addMessage(entry: ConversationEntry, parent: number | null, runId: string | null, message: ChatMessage, at: number): MessageEntry {
    const conversationId = entry.conversation.id;
    const stored: MessageEntry = { id: nextMessageId++, conversationId, parentId: parent, runId, json: JSON.stringify(message), createdAt: at };
    messages.get(conversationId)!.push(stored);
    entry.headId = stored.id;
    entry.conversation.updatedAt = at;
    return stored;
  }

  function addConversation(id: string, userId: string, title: string, at: number): ConversationEntry {
    const entry: ConversationEntry = { conversation: { id, userId, title, createdAt: at, updatedAt: at, pinnedAt: null, archivedAt: null }, order: nextOrder++, headId: null, origin: null, branchOf: null, settings: null };
    conversations.set(id, entry);
    messages.set(id, []);
    return entry;
  }

  /**
   * createRun's refusals, in the contract's order, before anything is written. `newConversation`: the run's
   * conversation is created with it (startRun), so its id must be free instead of owned.
   */
  function checkNewRun(input: CreateRunInput, max: number | undefined, newConversation: boolean): void {
    if (!newConversation && !owned(input.userId, input.conversationId)) {
      throw new StoreError("not_found", `Unknown conversation ${input.conversationId}.`);
    }
    const clientRequestId = input.clientRequestId ?? null;
    if (clientRequestId !== null && findByClientRequestId(input.userId, clientRequestId)) {
      throw conflict("client_request_id", `The user already started a run with client request id ${clientRequestId}.`);
    }
    if (runs.has(input.id)) throw conflict("id", `Run ${input.id} already exists.`);
    if (newConversation && conversations.has(input.conversationId)) {
      throw conflict("id", `Conversation ${input.conversationId} already exists.`);
    }
    if (runsOf(input.conversationId).some((run) => run.record.status === "running")) {
      throw conflict("conversation_busy", `Conversation ${input.conversationId} has a running run.`);
    }
    if (max !== undefined && running().filter((run) => run.record.userId === input.userId).length >= max) {
      throw new StoreError("limit", `The user already has ${max} running runs.`);
    }
  }

  function addRun(input: CreateRunInput, at: number): RunRecord {
    const record = newRunRecord(input, at);
    indexRun({ record, events: [], decisions: new Map() });
    return record;
  }

  function toStoredEvents(list: RunEntry["events"]): StoredEvent[] {
    return list.map(({ seq, json }) => ({ seq, event: JSON.parse(json) as ChatEvent }));
  }

  function eventsOfTypes(runId: string, wanted: ReadonlySet<string>): StoredEvent[] {
    return toStoredEvents((runs.get(runId)?.events ?? []).filter((event) => wanted.has(event.type)));
  }

  const store: MemoryChatStore = {
    kind: "memory",

    async createConversation({ id, userId, title }) {
      live();
      if (conversations.has(id)) throw conflict("id", `Conversation ${id} already exists.`);
      return copy(addConversation(id, userId, title, now()).conversation);
    },

    async getConversation(userId, conversationId) {
      live();
      const entry = owned(userId, conversationId);
      return entry && copy(entry.conversation);
    },

    async listConversations(userId, listOptions) {
      live();
      const limit = normalizeLimit(listOptions?.limit, defaultConversationLimit);
      // Pinned first, most recently pinned first (-1: below every time, as the databases sort NULL), then newest activity.
      const pinned = (entry: ConversationEntry) => entry.conversation.pinnedAt ?? -1;
      // One of the two lists: the conversations that are not archived, or the archived ones.
      const archived = listOptions?.archived === true;
      const listed = [...conversations.values()]
        .filter((entry) => entry.conversation.userId === userId && (entry.conversation.archivedAt !== null) === archived)
        .sort((a, b) => pinned(b) - pinned(a) || b.conversation.updatedAt - a.conversation.updatedAt || b.order - a.order);
      let start = 0;
      if (listOptions?.after !== undefined) {
        if (!owned(userId, listOptions.after)) throw new StoreError("not_found", `Unknown conversation ${listOptions.after}.`);
        start = listed.findIndex((entry) => entry.conversation.id === listOptions.after) + 1;
        // Archived or brought back since the page before: the list it was in ends there.
        if (start === 0) return [];
      }
      return listed.slice(start, start + limit).map((entry) => copy(entry.conversation));
    },

    async renameConversation(userId, conversationId, title, renameOptions) {
      live();
      const entry = owned(userId, conversationId);
      if (!entry) return undefined;
      if (renameOptions?.ifTitle !== undefined && entry.conversation.title !== renameOptions.ifTitle) return undefined;
      entry.conversation.title = title;
      return copy(entry.conversation);
    },

    async setPinned(userId, conversationId, pinned, at) {
      return setStamp(userId, conversationId, "pinnedAt", pinned, at);
    },

    async setArchived(userId, conversationId, archived, at) {
      return setStamp(userId, conversationId, "archivedAt", archived, at);
    },

    async insertConversation(input) {
      live();
      checkInsertConversation(input);
      const { id, userId, title, createdAt, updatedAt, pinnedAt, archivedAt } = input.conversation;
      // Every refusal, and every serialisation (a value JSON.stringify throws on), before the first write.
      if (conversations.has(id)) throw conflict("id", `Conversation ${id} already exists.`);
      const origin = input.conversation.origin ?? null;
      // A deleted conversation's entry is gone with it: its origin is free again.
      if (origin !== null && [...conversations.values()].some((other) => other.origin === origin && other.conversation.userId === userId)) {
        throw conflict("origin", `The user already has a conversation imported from ${origin}.`);
      }
      const taken = input.runs.find((run) => runs.has(run.id));
      if (taken) throw conflict("id", `Run ${taken.id} already exists.`);
      const logs = input.runs.map((run) => run.events.map(({ seq, event }) => ({ seq, type: event.type, json: JSON.stringify(event) })));
      const jsons = input.messages.map(({ message }) => JSON.stringify(message));

      const entry = addConversation(id, userId, title, createdAt);
      entry.conversation.updatedAt = updatedAt;
      entry.conversation.pinnedAt = pinnedAt;
      entry.conversation.archivedAt = archivedAt;
      entry.origin = origin;
      entry.settings = newSettings(now(), input.conversation.instructions, input.conversation.sampling);
      input.runs.forEach((run, i) => {
        const record: RunRecord = {
          id: run.id,
          conversationId: id,
          userId,
          model: run.model,
          provider: run.provider,
          clientRequestId: null,
          status: "done",
          reason: run.reason,
          usage: run.usage && copy(run.usage),
          owner: run.owner,
          createdAt: run.createdAt,
          finishedAt: run.finishedAt,
        };
        indexRun({ record, events: logs[i]!, decisions: new Map() });
      });
      const list = messages.get(id)!;
      const messageIds: number[] = [];
      input.messages.forEach(({ parent, runId, createdAt: at }, i) => {
        const stored: MessageEntry = { id: nextMessageId++, conversationId: id, parentId: parent === null ? null : messageIds[parent]!, runId, json: jsons[i]!, createdAt: at };
        list.push(stored);
        messageIds.push(stored.id);
      });
      entry.headId = input.head === null ? null : messageIds[input.head]!;
      const branchOf = input.conversation.branchOf;
      if (branchOf != null) entry.branchOf = { conversationId: branchOf.conversationId, messageId: branchOf.messageId, atMessageId: entry.headId! };
      const replaces = input.replaces;
      const replaced = replaces !== undefined && owned(userId, replaces) !== undefined && ![...runs.values()].some((run) => run.record.conversationId === replaces);
      if (replaced) {
        messages.delete(replaces);
        conversations.delete(replaces);
      }
      return { conversation: copy(entry.conversation), messageIds, replaced };
    },

    async importedCopies(userId, originPrefix) {
      live();
      const runsOf = new Set([...runs.values()].map((entry) => entry.record.conversationId));
      return [...conversations.values()]
        .filter((entry) => entry.conversation.userId === userId && entry.origin?.startsWith(originPrefix) === true)
        .sort((a, b) => b.conversation.updatedAt - a.conversation.updatedAt || b.order - a.order)
        .map(({ conversation, origin }) => ({
          id: conversation.id,
          origin: origin!,
          title: conversation.title,
          pinnedAt: conversation.pinnedAt,
          archivedAt: conversation.archivedAt,
          updatedAt: conversation.updatedAt,
          hasRuns: runsOf.has(conversation.id),
        }));
    },

    async branchOrigin(userId, conversationId) {
      live();
      const branchOf = owned(userId, conversationId)?.branchOf;
      if (!branchOf) return undefined;
      return { ...branchOf, title: owned(userId, branchOf.conversationId)?.conversation.title ?? null };
    },

    async deleteConversation(userId, conversationId) {
      live();
      if (!owned(userId, conversationId)) return false;
      dropRunsOf(conversationId);
      messages.delete(conversationId);
      conversations.delete(conversationId);
      return true;
    },

    async searchMessages(userId, query, searchOptions) {
      live();
      const limit = normalizeLimit(searchOptions?.limit, defaultSearchLimit);
      if (query === "" || limit === 0) return [];
      const hits: Array<SearchHit & { id: number }> = [];
      for (const { conversation } of conversations.values()) {
        if (conversation.userId !== userId) continue;
        for (const entry of messages.get(conversation.id) ?? []) {
          const message = JSON.parse(entry.json) as ChatMessage;
          if (!isSearchableRole(message.role) || !containsFolded(searchedText(message), query)) continue;
          hits.push({
            id: entry.id,
            conversationId: conversation.id,
            messageId: entry.id,
            title: conversation.title,
            role: message.role,
            snippet: snippet(searchedText(message), query),
            createdAt: entry.createdAt,
            archivedAt: conversation.archivedAt,
          });
        }
      }
      return hits
        .sort((a, b) => b.createdAt - a.createdAt || b.id - a.id)
        .slice(0, limit)
        .map(({ id: _id, ...hit }) => hit);
    },

    async appendMessage({ conversationId, runId, message, parentId }) {
      live();
      const entry = conversations.get(conversationId);
      if (!entry) throw new StoreError("not_found", `Unknown conversation ${conversationId}.`);
      return toStoredMessage(addMessage(entry, parentOf(conversationId, entry.headId, parentId), runId, message, now()));
    },

    async listMessages(conversationId) {
      live();
      return (messages.get(conversationId) ?? []).map(toStoredMessage);
    },

    async activePath(conversationId) {
      live();
      return activePathOf(conversationId);
    },

    async switchBranch(conversationId, messageId) {
      live();
      const entry = conversations.get(conversationId);
      const list = messages.get(conversationId);
      if (!entry || !list || !messageOf(conversationId, messageId)) {
        throw new StoreError("not_found", `Message ${messageId} is not in conversation ${conversationId}.`);
      }
      entry.headId = new MessageTree(list).newestLeafBelow(messageId);
      return activePathOf(conversationId);
    },

    async rewindActivePath(conversationId, messageId) {
      live();
      const entry = conversations.get(conversationId);
      if (!entry) throw new StoreError("not_found", `Unknown conversation ${conversationId}.`);
      if (messageId !== null && !messageOf(conversationId, messageId)) {
        throw new StoreError("not_found", `Message ${messageId} is not in conversation ${conversationId}.`);
      }
      entry.headId = messageId;
    },

    async createRun(input) {
      live();
      checkNewRun(input, runningLimit(input), false);
      return copy(addRun(input, now()));
    },

    async startRun(input) {
      live();
      const max = runningLimit(input);
      const { conversationId } = input;
      const newConversation = input.conversation !== undefined;
      // Every check before the first write: a refusal leaves nothing behind.
      checkNewRun(input, max, newConversation);
      const parent = parentOf(conversationId, conversations.get(conversationId)?.headId ?? null, input.question.parentId);
      const at = now();
      const entry = input.conversation ? addConversation(conversationId, input.userId, input.conversation.title, at) : conversations.get(conversationId)!;
      if (input.conversation) entry.settings = newSettings(at, input.conversation.instructions, input.conversation.sampling);
      const record = addRun(input, at);
      const question = addMessage(entry, parent, record.id, input.question.message, at);
      return { run: copy(record), conversation: copy(entry.conversation), question: toStoredMessage(question) };
    },

    async getRun(runId) {
      live();
      const run = runs.get(runId);
      return run && copy(run.record);
    },

    async findRunByClientRequestId(userId, clientRequestId) {
      live();
      const run = findByClientRequestId(userId, clientRequestId);
      return run && copy(run.record);
    },

    async listRuns(conversationId) {
      live();
      // Map iteration is creation order; the stable sort keeps it on equal createdAt, like SQLite's rowid.
      return runsOf(conversationId)
        .sort((a, b) => a.record.createdAt - b.record.createdAt)
        .map((run) => copy(run.record));
    },

    async activeRun(conversationId) {
      live();
      const run = runsOf(conversationId).find((entry) => entry.record.status === "running");
      return run && copy(run.record);
    },

    async runningOwners() {
      live();
      return [...new Set(running().map((run) => run.record.owner ?? null))];
    },
    async runningAmong(runIds) {
      live();
      return new Set(runIds.filter((id) => runs.get(id)?.record.status === "running"));
    },
    async listRunningRuns(listOptions) {
      live();
      const owner = listOptions?.owner;
      return running()
        .filter((run) => owner === undefined || run.record.owner === owner)
        .sort((a, b) => a.record.createdAt - b.record.createdAt)
        .map((run) => copy(run.record));
    },

    async countRunningRuns(userId) {
      live();
      return running().filter((run) => run.record.userId === userId).length;
    },

    async finishRun(runId, { reason, usage }) {
      live();
      const run = runs.get(runId);
      if (!run || run.record.status !== "running") return false;
      finish(run, reason, usage);
      return true;
    },

    async claimRun(runId, { from, to }) {
      live();
      const run = runs.get(runId);
      if (!run || run.record.status !== "running" || run.record.owner !== from) return false;
      run.record = { ...run.record, owner: to };
      return true;
    },

    appendEvent(runId, seq, event) {
      try {
        live();
        pushEvent(runOpenTo(runId, seq), seq, event);
        return committed;
      } catch (error) {
        return Promise.reject(error instanceof Error ? error : new Error(String(error)));
      }
    },

    appendDone(runId, seq, done, answer) {
      try {
        live();
        // Every refusal before the first write: a refused done stores no message either (one commit, as SQLite).
        const run = runOpenTo(runId, seq);
        const entry = conversations.get(answer.conversationId);
        if (!entry) throw new StoreError("not_found", `Unknown conversation ${answer.conversationId}.`);
        const at = now();
        const stored = answer.messages.map((message) => toStoredMessage(addMessage(entry, entry.headId, runId, message, at)));
        pushEvent(run, seq, done);
        return Promise.resolve(stored);
      } catch (error) {
        return Promise.reject(error instanceof Error ? error : new Error(String(error)));
      }
    },

    async readEvents(runId, afterSeq = 0, limit) {
      live();
      const events = runs.get(runId)?.events ?? [];
      // Seqs ascend (with gaps after a recovery): binary-search the first one after afterSeq.
      let lo = 0;
      let hi = events.length;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if ((events[mid]?.seq ?? 0) <= afterSeq) lo = mid + 1;
        else hi = mid;
      }
      return toStoredEvents(events.slice(lo, limit === undefined ? undefined : lo + Math.max(0, Math.floor(limit))));
    },

    async readEventsOfTypes(runId, types) {
      live();
      return eventsOfTypes(runId, new Set<string>(types));
    },

    async readEventsOfTypesForRuns(runIds, types) {
      live();
      const wanted = new Set<string>(types);
      return new Map(runIds.map((runId) => [runId, eventsOfTypes(runId, wanted)]));
    },

    async lastSeq(runId) {
      live();
      return runs.get(runId)?.events.at(-1)?.seq ?? 0;
    },

    async pruneTokenEvents({ afterRunId, finishedBefore, maxRuns }) {
      live();
      const walked = [...runs.keys()]
        .filter((id) => afterRunId === null || id > afterRunId)
        .sort()
        .slice(0, Math.max(0, Math.floor(maxRuns)));
      let deleted = 0;
      let lastRunId = afterRunId;
      for (const id of walked) {
        const run = runs.get(id)!;
        const { status, finishedAt } = run.record;
        if (status !== "done" || finishedAt === null || finishedAt >= finishedBefore) return { deleted, lastRunId, caughtUp: true };
        const kept = run.events.filter((event) => event.type !== "token");
        deleted += run.events.length - kept.length;
        run.events = kept;
        lastRunId = id;
      }
      return { deleted, lastRunId, caughtUp: walked.length < maxRuns };
    },

    async recordApprovalDecision({ runId, callId, approved, reason = null }) {
      live();
      const run = runs.get(runId);
      if (!run) throw new StoreError("not_found", `Unknown run ${runId}.`);
      const existing = run.decisions.get(callId);
      if (existing) return { decision: copy(existing), recorded: false };
      const decision: ApprovalDecisionRecord = { runId, callId, approved, reason, decidedAt: now() };
      run.decisions.set(callId, decision);
      return { decision: copy(decision), recorded: true };
    },

    async getApprovalDecision(runId, callId) {
      live();
      const decision = runs.get(runId)?.decisions.get(callId);
      return decision && copy(decision);
    },

    async listToolServerSettings(userId) {
      live();
      // Code-unit order, as SQLite's BINARY and PostgreSQL's "C" collation sort.
      return [...(toolServerSettings.get(userId)?.values() ?? [])].sort((a, b) => (a.server < b.server ? -1 : a.server > b.server ? 1 : 0)).map(copy);
    },

    async setToolServerEnabled(userId, server, enabled) {
      live();
      const setting: ToolServerSetting = { server, enabled, updatedAt: now() };
      const settings = toolServerSettings.get(userId) ?? new Map<string, ToolServerSetting>();
      settings.set(server, setting);
      toolServerSettings.set(userId, settings);
      return copy(setting);
    },

    async getUserSettings(userId) {
      live();
      const settings = userSettings.get(userId);
      return settings ? copy(settings) : noUserSettings();
    },

    async setInstructions(userId, instructions) {
      live();
      return setUserSettings(userId, () => ({ instructions }));
    },

    async setUserSampling(userId, change) {
      live();
      return setUserSettings(userId, (current) => ({ sampling: changedSampling(current.sampling, change) }));
    },

    async getConversationSettings(userId, conversationId) {
      live();
      const entry = owned(userId, conversationId);
      if (!entry) throw new StoreError("not_found", `Unknown conversation ${conversationId}.`);
      return entry.settings ? copy(entry.settings) : noSettings();
    },

    async setConversationInstructions(userId, conversationId, instructions) {
      live();
      return setSettings(userId, conversationId, () => ({ instructions }));
    },

    async setConversationSampling(userId, conversationId, change) {
      live();
      return setSettings(userId, conversationId, (current) => ({ sampling: changedSampling(current.sampling, change) }));
    },

    async getRunSettings(userId, conversationId) {
      live();
      const { instructions, sampling } = conversations.get(conversationId)?.settings ?? noSettings();
      const user = userSettings.get(userId) ?? noUserSettings();
      return {
        user: user.instructions,
        conversation: instructions,
        sampling: {
          temperature: sampling.temperature ?? user.sampling.temperature,
          topP: sampling.topP ?? user.sampling.topP,
          seed: sampling.seed ?? user.sampling.seed,
        },
      };
    },

    async flush() {
      live();
    },

    async ping() {
      return !closed;
    },

    async close() {
      closed = true;
    },
  };
  return store;
}
