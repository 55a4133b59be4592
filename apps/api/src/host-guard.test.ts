import { describe, expect, it } from "vitest";
import { createHostGuard, hostnameOf } from "./host-guard.js";

describe("hostnameOf", () => {
  it("drops ports and brackets, lowercases", () => {
    expect(hostnameOf("localhost:3000")).toBe("localhost");
    expect(hostnameOf("127.0.0.1")).toBe("127.0.0.1");
    expect(hostnameOf("[::1]:3000")).toBe("::1");
    expect(hostnameOf("Chat.Example.COM:443")).toBe("chat.example.com");
  });
});

describe("createHostGuard", () => {
  const tokens = [{ userId: "a", token: "aaaaaaaa" }];

  it("without auth: loopback names and ALLOWED_HOSTS only (DNS rebinding)", () => {
    const allowed = createHostGuard({ authTokens: null, allowedHosts: ["chat.lan"] });
    for (const host of ["localhost:3000", "127.0.0.1:3000", "[::1]:3000", "127.1.2.3", "chat.lan:3000", undefined]) {
      expect(allowed(host), String(host)).toBe(true);
    }
    for (const host of ["evil.example:3000", "attacker.localhost.evil", "10.0.0.5:3000", "chat.lan.evil", "0.0.0.0:3000"]) {
      expect(allowed(host), host).toBe(false);
    }
  });

  it("with auth: any host, unless ALLOWED_HOSTS narrows it", () => {
    expect(createHostGuard({ authTokens: tokens, allowedHosts: [] })("anything.example:1")).toBe(true);
    const narrowed = createHostGuard({ authTokens: tokens, allowedHosts: ["chat.example.com"] });
    expect(narrowed("chat.example.com")).toBe(true);
    expect(narrowed("other.example.com")).toBe(false);
  });
});
