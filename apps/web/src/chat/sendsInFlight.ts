import { useEffect, useRef, useState } from "react";

/**
 * The send on its way to each conversation, whichever of its two senders made it: its pane, or BackgroundQueues once
 * the user left it. A conversation has one message on its way at a time. The sender that takes over when the user
 * leaves (or comes back) while one is on its way waits for it and follows the answer it started; otherwise it saw the
 * conversation idle (the server had not heard of that message yet), sent the next one, and the two could arrive in
 * either order.
 */
const inFlight = new Map<string, Promise<string | null>>();

export const sendsInFlight = {
  /**
   * Marks a send to `conversationId` as on its way. Call the function it returns once the sender is done with the
   * outcome (a failed message is back in the queue, or given back): with the run it started, or null if it failed.
   */
  begin(conversationId: string): (runId: string | null) => void {
    let settle: (runId: string | null) => void = () => {};
    const sent = new Promise<string | null>((resolve) => (settle = resolve));
    inFlight.set(conversationId, sent);
    return (runId) => {
      if (inFlight.get(conversationId) === sent) inFlight.delete(conversationId);
      settle(runId);
    };
  },
  /** The send on its way to `conversationId`, if any: it resolves to the run it started (null: it failed). */
  get: (conversationId: string): Promise<string | null> | undefined => inFlight.get(conversationId),
};

/**
 * A sender taking over a conversation (its pane opening, the background sender starting when the user left): true
 * while the other's send is still on its way, then `onSent` with the run it started (null: it failed, and its message is
 * back in the queue or given back), in the same render as the false.
 */
export function useSendMadeElsewhere(conversationId: string | null, onSent: (runId: string | null) => void): boolean {
  const [waiting, setWaiting] = useState(false);
  const onSentRef = useRef(onSent);
  onSentRef.current = onSent;
  useEffect(() => {
    const pending = conversationId ? inFlight.get(conversationId) : undefined;
    if (!pending) return;
    let current = true;
    setWaiting(true);
    void pending.then((runId) => {
      if (!current) return;
      setWaiting(false);
      onSentRef.current(runId);
    });
    return () => {
      current = false;
    };
  }, [conversationId]);
  return waiting;
}
