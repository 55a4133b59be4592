import type { MessageVersions, PathMessage, StoredMessage } from "./types.js";

/** A message's place in its conversation's tree: all the tree logic needs. */
export interface TreeNode {
  id: number;
  parentId: number | null;
}

/**
 * One conversation's message tree, built from its (id, parentId) pairs. Every backend loads these pairs and asks
 * this class for the active path, the versions and the branch to switch to, so the three compute them alike.
 */
export class MessageTree {
  private readonly parents = new Map<number, number | null>();
  /** Children of each parent (null: the first messages), oldest first. */
  private readonly children = new Map<number | null, number[]>();

  constructor(nodes: Iterable<TreeNode>) {
    const sorted = [...nodes].sort((a, b) => a.id - b.id);
    for (const { id, parentId } of sorted) {
      this.parents.set(id, parentId);
      const siblings = this.children.get(parentId);
      if (siblings) siblings.push(id);
      else this.children.set(parentId, [id]);
    }
  }

  has(id: number): boolean {
    return this.parents.has(id);
  }

  /** Ids from the first message down to `headId`, in order; [] for null. */
  pathTo(headId: number | null): number[] {
    const path: number[] = [];
    let id = headId;
    while (id !== null) {
      const parentId = this.parents.get(id);
      // Parents are older than their children, so walking up always ends; a row breaking that is corrupt data.
      if (parentId === undefined) throw new Error(`Message ${id} is not in the conversation's tree.`);
      if (parentId !== null && parentId >= id) throw new Error(`Message ${id} has a parent (${parentId}) that is not older.`);
      path.push(id);
      id = parentId;
    }
    return path.reverse();
  }

  /** The leaf reached from `id` by following the most recently created child at each step (`id` itself when a leaf). */
  newestLeafBelow(id: number): number {
    let at = id;
    for (;;) {
      const newest = this.children.get(at)?.at(-1);
      if (newest === undefined) return at;
      at = newest;
    }
  }

  /** Where `id` stands among its siblings, when it has any. */
  versionsOf(id: number): MessageVersions | undefined {
    const parentId = this.parents.get(id);
    if (parentId === undefined) return undefined;
    const siblings = this.children.get(parentId) ?? [];
    if (siblings.length < 2) return undefined;
    return { index: siblings.indexOf(id) + 1, count: siblings.length, siblingIds: [...siblings] };
  }

  /** The path's stored messages with their versions (`messages` holds at least the path's ids). */
  withVersions(path: readonly number[], messages: ReadonlyMap<number, StoredMessage>): PathMessage[] {
    return path.map((id) => {
      const message = messages.get(id);
      if (!message) throw new Error(`Message ${id} of the active path was not loaded.`);
      const versions = this.versionsOf(id);
      return versions ? { ...message, versions } : message;
    });
  }
}

/**
 * The user message a regenerate answers again, given the active path and the message the user asked to
 * regenerate: for an assistant or tool message, the nearest user message before it on the path (the question
 * its chain answers); for a user message, itself; without a message id, the last user message of the path.
 * Undefined when there is none (or the message is not on the path). The regenerate then rewinds the active path
 * to it (rewindActivePath) and appends the run's answer under it: a new version of the old answer.
 */
export function questionToRegenerate(path: readonly PathMessage[], messageId?: number): PathMessage | undefined {
  const from = messageId === undefined ? path.length - 1 : path.findIndex((m) => m.id === messageId);
  if (from < 0) return undefined;
  for (let i = from; i >= 0; i--) {
    if (path[i]!.message.role === "user") return path[i];
  }
  return undefined;
}
