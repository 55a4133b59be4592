import { useEffect, useEffectEvent, useState } from "react";
import { tokenKey } from "./authToken.js";

/** The page's sign-in check as React Query gives it (`models.list`). */
export interface SignInCheck {
  error: { data?: { code?: string } | null } | null;
  data: unknown;
  isFetching: boolean;
}

/**
 * Whether the server refused the page's sign-in check (`models.list`), kept while that check is asked again: React Query
 * clears the error of a query that never had data as soon as it fetches again (a token was saved), so without this the
 * "requires a token" banner and the token setting's "Checking the token…" would go before the server answered.
 * What the last answer was is state (a value from an earlier render), set while rendering when it changes: React's way
 * for it; a ref must not be written during render.
 */
export function useSignInRefused(check: SignInCheck): boolean {
  const [refused, setRefused] = useState(false);
  const now = check.error ? check.error.data?.code === "UNAUTHORIZED" : check.data !== undefined || !check.isFetching ? false : refused;
  if (now !== refused) setRefused(now);
  return now;
}

/**
 * Calls `onChange` when another tab of this app saves or clears the API token (the `storage` event fires in the other
 * tabs only): this page sends it from then on, and what was refused without it may go through now.
 */
export function useTokenChangedElsewhere(onChange: () => void): void {
  const changed = useEffectEvent(onChange);
  useEffect(() => {
    const onStorage = (e: StorageEvent) => {
      // key null: the other tab cleared the whole storage, the token with it.
      if (e.key === tokenKey || e.key === null) changed();
    };
    window.addEventListener("storage", onStorage);
    return () => window.removeEventListener("storage", onStorage);
  }, []);
}
