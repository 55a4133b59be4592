import type { ConversationBuilder, ForeignChatMessage } from "./document.js";

/** A message of another app's tree: `message` undefined for one that is not imported (a system prompt, a failure). */
export interface ForeignNode {
  key: string;
  /** null, or a key no node has: a first message. */
  parentKey: string | null;
  message: ForeignChatMessage | undefined;
  createdAt: number | undefined;
}

/**
 * Adds the messages of a tree to the builder in the nodes' order, each one's ancestors first (the format wants
 * parents before children; the other apps' files are mostly in time order already, so ids follow it). A message that
 * is not imported is left out of the tree: its children hang from its nearest imported ancestor. A parent link that
 * goes round in a circle is cut where the walk up meets it again (that message becomes a first one), so a damaged
 * file cannot make the import loop. Nodes with a key already seen are ignored.
 *
 * Returns, for each key, the id of the message added for it or for its nearest imported ancestor (null: none).
 */
export function addTree(builder: ConversationBuilder, nodes: readonly ForeignNode[]): Map<string, number | null> {
  const byKey = new Map<string, ForeignNode>();
  for (const node of nodes) if (!byKey.has(node.key)) byKey.set(node.key, node);
  const resolved = new Map<string, number | null>();
  for (const key of byKey.keys()) {
    // The ancestors not added yet, nearest first; stops at an added one, a missing one, or one met before (a cycle).
    const chain: ForeignNode[] = [];
    const onChain = new Set<string>();
    let at: string | null = key;
    let node = byKey.get(key);
    while (at !== null && node !== undefined && !resolved.has(at) && !onChain.has(at)) {
      chain.push(node);
      onChain.add(at);
      at = node.parentKey;
      node = at === null ? undefined : byKey.get(at);
    }
    let parentId = at === null ? null : (resolved.get(at) ?? null);
    for (const ancestor of chain.reverse()) {
      if (ancestor.message) parentId = builder.add(parentId, ancestor.message, ancestor.createdAt);
      resolved.set(ancestor.key, parentId);
    }
  }
  return resolved;
}
