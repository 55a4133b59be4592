import { hash, timingSafeEqual } from "node:crypto";
import type { Config } from "./config.js";

/** What a request without a valid token is told, REST and tRPC alike. */
export const unauthorizedMessage = "A valid token is required (Authorization: Bearer <token>).";

/** The only user when AUTH_TOKENS is not set (a local, single-user install). */
export const localUserId = "local";

export interface Authenticator {
  readonly enabled: boolean;
  /** The user a credential belongs to, or null. Without AUTH_TOKENS every request is the local user. */
  userFor(credential: { authorization?: string | string[] | undefined; token?: unknown }): string | null;
}

// One shot: a Hash object per call (createHash, update, digest) was most of what checking a token cost.
const digest = (value: string) => hash("sha256", value, "buffer");

/** Token from "Bearer <token>" (case-insensitive scheme). */
export function bearerToken(header: string | string[] | undefined): string | undefined {
  const value = Array.isArray(header) ? header[0] : header;
  const match = value ? /^Bearer\s+(\S+)\s*$/i.exec(value) : null;
  return match?.[1];
}

export function createAuthenticator(tokens: Config["authTokens"]): Authenticator {
  if (!tokens) return { enabled: false, userFor: () => localUserId };
  // Comparing fixed-length digests with timingSafeEqual leaks neither the token nor its length,
  // and every entry is compared so the position of a match is not observable either.
  const entries = tokens.map(({ userId, token }) => ({ userId, hash: digest(token) }));
  return {
    enabled: true,
    userFor({ authorization, token }) {
      const presented = bearerToken(authorization) ?? (typeof token === "string" && token ? token : undefined);
      if (!presented) return null;
      const hash = digest(presented);
      let user: string | null = null;
      for (const entry of entries) {
        if (timingSafeEqual(entry.hash, hash) && user === null) user = entry.userId;
      }
      return user;
    },
  };
}
