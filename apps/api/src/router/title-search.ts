import { titleMatcher } from "@streamchat/core";
import type { ChatStore, Conversation } from "@streamchat/store";

/** How many conversations a title search reads from the store at a time. */
const scanPage = 500;

/**
 * The user's conversations whose title holds every word of `query` (core's titleMatcher: case and accents ignored,
 * any order), in the list's order (pinned first, then newest activity), at most `limit`, after the conversation
 * `after` when given (as listConversations pages), among the archived ones alone with `archived`. The titles are matched here, page by page through the list, not in
 * SQL: the rule is then the same on every store and in the web app that marks what matched, which SQL's own case folding
 * (ASCII only in SQLite, by locale in PostgreSQL) and its lack of accent folding could not give. A user's titles are
 * short and few next to their messages: reading them all is ~a list page per 500 conversations.
 */
export async function listTitleMatches(
  store: ChatStore,
  userId: string,
  query: string,
  options: { limit: number; after?: string; archived?: boolean },
): Promise<Conversation[]> {
  const matches = titleMatcher(query);
  const found: Conversation[] = [];
  let after = options.after;
  for (;;) {
    const page = await store.listConversations(userId, { limit: scanPage, ...(after === undefined ? {} : { after }), ...(options.archived === true ? { archived: true } : {}) });
    for (const conversation of page) {
      if (!matches(conversation.title)) continue;
      found.push(conversation);
      if (found.length === options.limit) return found;
    }
    if (page.length < scanPage) return found;
    after = page.at(-1)!.id;
  }
}
