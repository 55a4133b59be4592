import { isLoopbackHost, type Config } from "./config.js";
import type { ApiErrorBody } from "./errors.js";

/** The hostname of a Host header ("[::1]:3000" → "::1", "Example.com:80" → "example.com"). */
export function hostnameOf(host: string): string {
  const value = host.trim().toLowerCase();
  if (value.startsWith("[")) return value.slice(1, value.indexOf("]") > 0 ? value.indexOf("]") : undefined);
  const colon = value.lastIndexOf(":");
  return colon >= 0 && value.indexOf(":") === colon ? value.slice(0, colon) : value;
}

/** What the host guard makes of a Host header: served, a host name this server does not serve, or no host name at all. */
export type HostVerdict = "allowed" | "not_allowed" | "malformed";

/**
 * Which Host headers may reach the API. Without AUTH_TOKENS anyone who can reach the port is the user, and
 * a web page can get there too by DNS rebinding (its own hostname re-pointed at 127.0.0.1, so the browser
 * treats the API as same-origin). Such requests carry the page's hostname in Host: only loopback names and
 * ALLOWED_HOSTS are accepted then. With tokens every host is fine unless ALLOWED_HOSTS narrows it.
 */
export function createHostGuard(config: Pick<Config, "authTokens" | "allowedHosts">): (host: string | undefined) => HostVerdict {
  const anyHost = config.authTokens !== null && config.allowedHosts.length === 0;
  const allowed = new Set(config.allowedHosts);
  return (host) => {
    // HTTP/1.0 requests may lack Host; browsers (the rebinding vector) always send it.
    if (host === undefined) return "allowed";
    // Not a host at all ("a b", "[", "x:99999", empty): the tRPC routes build the request's URL from it and failed
    // with a 500 (logged as a server error) for what is the client's mistake. Refused before any route, as a bad
    // request: no configuration would admit it, unlike a well-formed name this server does not serve.
    if (!isValidHost(host)) return "malformed";
    if (anyHost) return "allowed";
    const name = hostnameOf(host);
    return isLoopbackHost(name) || allowed.has(name) ? "allowed" : "not_allowed";
  };
}

/** The answer to a Host header the guard refuses, in the API's error shape. */
export function hostRefusal(verdict: Exclude<HostVerdict, "allowed">): { status: 400 | 403; body: ApiErrorBody } {
  if (verdict === "malformed") {
    return { status: 400, body: { error: "The Host header is not a valid host name and port: send the name the server is reached at, e.g. localhost:3000.", code: "bad_request" } };
  }
  return {
    status: 403,
    body: { error: "This host name is not allowed. Use localhost, or add it to ALLOWED_HOSTS (or set AUTH_TOKENS).", code: "unauthorized" },
  };
}

/** A Host header that is a host (and port) only, and makes a URL (`http://<host>/`) as tRPC's adapters build one. */
export function isValidHost(host: string): boolean {
  return host !== "" && !/[/?#@\\]/.test(host) && URL.canParse(`http://${host}/`);
}
