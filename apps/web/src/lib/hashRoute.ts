import { useEffect, useState } from "react";

/** `#/c/<id>` → id; anything else → null (a new conversation). */
export function parseConversationHash(hash: string): string | null {
  const match = /^#\/c\/([^/?#]+)$/.exec(hash);
  if (!match?.[1]) return null;
  try {
    return decodeURIComponent(match[1]);
  } catch {
    return null;
  }
}

export function conversationHash(conversationId: string | null): string {
  return conversationId ? `#/c/${encodeURIComponent(conversationId)}` : "#/";
}

/** The conversation in the URL hash, so a reload returns to it. */
export function useConversationRoute(): [string | null, (conversationId: string | null) => void] {
  const [id, setId] = useState(() => parseConversationHash(window.location.hash));
  useEffect(() => {
    const onHashChange = () => setId(parseConversationHash(window.location.hash));
    window.addEventListener("hashchange", onHashChange);
    return () => window.removeEventListener("hashchange", onHashChange);
  }, []);
  const navigate = (conversationId: string | null) => {
    const hash = conversationHash(conversationId);
    if (window.location.hash !== hash) window.location.hash = hash;
    setId(conversationId);
  };
  return [id, navigate];
}
