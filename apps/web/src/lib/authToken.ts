const key = "streamchat.token";

/** The API token the user entered (only needed when the server has AUTH_TOKENS set). */
export function readToken(): string | null {
  try {
    return localStorage.getItem(key) || null;
  } catch {
    return null; // storage disabled (private mode, sandboxed iframe)
  }
}

export function writeToken(token: string | null): void {
  try {
    if (token) localStorage.setItem(key, token);
    else localStorage.removeItem(key);
  } catch {
    // nothing to do: the token then lives only for this page
  }
}
