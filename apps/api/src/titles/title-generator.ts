import type { ChatMessage, ChatModel, EventOf } from "@streamchat/core";
import type { ChatStore, RunRecord } from "@streamchat/store";
import { titleFrom } from "../runs/context.js";
import type { RunLog } from "../runs/run-log.js";
import { cleanTitle, titleRequestMessages } from "./title-prompt.js";

export interface TitleGeneratorOptions {
  store: ChatStore;
  model: ChatModel;
  log: RunLog;
  /** A generated title was stored (the conversation feed). */
  onTitle: (userId: string, conversationId: string, title: string) => void;
  /** Most tokens the model may answer with (Ollama num_predict, OpenAI max_tokens; default 24). */
  maxTokens?: number;
  /** A title request still unanswered after this long is given up (default 30 s). */
  timeoutMs?: number;
}

/**
 * Names a conversation after its first answer: one small request to the run's model (the first question and answer,
 * then "write a short title"; no tools, no system prompt, a few tokens), in the background. Never blocks or delays
 * the answer: it starts after the run's `done` was handed to subscribers, and failures are logged and ignored.
 *
 * Only a conversation whose title is still the one made from its first message gets a title, and the store writes
 * it only while that is still so (renameConversation's `ifTitle`): a title the user set, before or while the model
 * answers, is never overwritten. A conversation whose first answer failed gets its title after a later one.
 */
export class TitleGenerator {
  private readonly pending = new Set<Promise<void>>();
  private readonly controller = new AbortController();

  constructor(private readonly opts: TitleGeneratorOptions) {}

  /** After a run's done: starts naming its conversation when it needs a name. Never throws. */
  afterRun(record: RunRecord, done: EventOf<"done">): void {
    if (done.reason !== "stop" || this.controller.signal.aborted) return;
    const work = this.generate(record)
      .catch((err: unknown) => {
        const { conversationId } = record;
        // Stopped by close() (shutdown): expected, and nothing went wrong worth a stack.
        if (this.controller.signal.aborted) this.opts.log.info({ conversationId }, "title generation stopped: shutting down");
        else this.opts.log.warn({ err, conversationId }, "generating a conversation title failed");
      })
      .finally(() => this.pending.delete(work));
    this.pending.add(work);
  }

  /** Resolves when no title request is under way (tests; shutdown). */
  async idle(): Promise<void> {
    while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
  }

  /** Aborts title requests under way; later runs get none. */
  async close(): Promise<void> {
    this.controller.abort(new Error("shutting down"));
    await this.idle();
  }

  private async generate(record: RunRecord): Promise<void> {
    const { store } = this.opts;
    const conversation = await store.getConversation(record.userId, record.conversationId);
    if (!conversation) return;
    const messages = await store.listMessages(conversation.id);
    const firstUser = messages.findIndex((m) => m.message.role === "user");
    const question = messages[firstUser];
    if (question?.message.role !== "user") return;
    const autoTitle = titleFrom(question.message.content);
    if (conversation.title !== autoTitle) return; // named already: by the user, or generated before
    const answer = messages.slice(firstUser + 1).find((m) => m.message.role === "assistant" && m.message.content.trim() !== "");
    if (!answer) return;

    const text = await this.ask(record.model, question.message, answer.message.content);
    const title = cleanTitle(text);
    if (!title || title === autoTitle) return;
    const renamed = await store.renameConversation(record.userId, conversation.id, title, { ifTitle: autoTitle });
    if (!renamed) return; // renamed (or deleted) while the model answered
    this.opts.log.info({ conversationId: conversation.id, runId: record.id }, "conversation titled");
    this.opts.onTitle(record.userId, conversation.id, renamed.title);
  }

  private async ask(modelName: string, question: Extract<ChatMessage, { role: "user" }>, answer: string): Promise<string> {
    const { model } = this.opts;
    const signal = AbortSignal.any([this.controller.signal, AbortSignal.timeout(this.opts.timeoutMs ?? 30_000)]);
    // A thinking model would spend the few tokens on reasoning: asked not to, where it can be asked.
    const capabilities = await model.capabilities?.(modelName, { signal });
    const think = capabilities?.thinking ? (capabilities.thinkLevels ? "low" : false) : undefined;
    let text = "";
    for await (const chunk of model.stream(
      {
        model: modelName,
        messages: titleRequestMessages(question.content, answer, question.files),
        ...(think === undefined ? {} : { think }),
        options: { numPredict: this.opts.maxTokens ?? 24, temperature: 0.2 },
      },
      { signal },
    )) {
      if (chunk.type === "text") text += chunk.text;
    }
    return text;
  }
}
