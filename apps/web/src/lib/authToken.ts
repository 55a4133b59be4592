/** Where the token is kept (localStorage): other tabs hear of changes to it (lib/signIn.ts). */
export const tokenKey = "streamchat.token";

/** The API token the user entered (only needed when the server has AUTH_TOKENS set). */
export function readToken(): string | null {
  try {
    return localStorage.getItem(tokenKey) || null;
  } catch {
    return null; // storage disabled (private mode, sandboxed iframe)
  }
}

export function writeToken(token: string | null): void {
  try {
    if (token) localStorage.setItem(tokenKey, token);
    else localStorage.removeItem(tokenKey);
  } catch {
    // nothing to do: the token then lives only for this page
  }
}
