import { useEffect, useMemo, useRef, useState } from "react";
import type { RouterOutputs } from "../trpc.js";
import { itemKeyOf, onPath, type OpenAt } from "./openAt.js";

type Conversation = RouterOutputs["conversations"]["get"];

export interface OpenAtState {
  /** The message is not on the shown path yet: the chat says "Loading", not the other branch. */
  opening: boolean;
  /** The item showing the message, once it shows; ChatPane scrolls to it. */
  revealed: { key: string; request: OpenAt } | null;
}

/**
 * A conversation opened at a search hit: once it is fresh from the server, its branch is shown if the path does not
 * hold the message (`switchTo`, switchBranch), then the message is revealed. A new `openAt` object (the same message
 * opened again, the pane staying mounted) starts over.
 */
export function useOpenAt(opts: {
  openAt: OpenAt | null;
  conversationId: string | null;
  detail: Conversation | undefined;
  /** The conversation was fetched since the pane mounted and is not being fetched again. */
  fresh: boolean;
  /** Reading the conversation failed (the pane says what is wrong): nothing to open. */
  failed: boolean;
  /** Shows the branch through `messageId`; settles once, either way. */
  switchTo: (messageId: number, handlers: { onSuccess: () => void; onSettled: () => void }) => void;
}): OpenAtState {
  const { openAt, conversationId, detail, fresh, failed, switchTo } = opts;
  const [target, setTarget] = useState<OpenAt | null>(openAt);
  const [seenOpenAt, setSeenOpenAt] = useState<OpenAt | null>(openAt);
  if (openAt !== seenOpenAt) {
    // Adjusted while rendering, so no frame shows the old path as if it were the answer.
    setSeenOpenAt(openAt);
    setTarget(openAt);
  }
  const [revealing, setRevealing] = useState<OpenAt | null>(null);
  const switchingTo = useRef<OpenAt | null>(null);
  const targetShown = target !== null && detail !== undefined && onPath(detail.messages, target.messageId);
  useEffect(() => {
    if (!target || !conversationId) return;
    const done = () => setTarget((current) => (current === target ? null : current));
    if (failed) return done();
    if (!fresh || !detail) return;
    if (onPath(detail.messages, target.messageId)) {
      setRevealing(target);
      return done();
    }
    // switchBranch is refused while an answer streams (it lands on the path): the conversation shows as it is.
    if (detail.activeRunId) return done();
    if (switchingTo.current === target) return;
    switchingTo.current = target;
    switchTo(target.messageId, { onSuccess: () => setRevealing(target), onSettled: done });
  }, [target, conversationId, failed, fresh, detail, switchTo]);
  const revealedKey = revealing && detail ? itemKeyOf(detail.messages, revealing.messageId) : null;
  const revealed = useMemo(() => (revealing && revealedKey ? { key: revealedKey, request: revealing } : null), [revealing, revealedKey]);
  return { opening: target !== null && !targetShown && !failed, revealed };
}
