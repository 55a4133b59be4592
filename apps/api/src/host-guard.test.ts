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
      expect(allowed(host), String(host)).toBe("allowed");
    }
    for (const host of ["evil.example:3000", "attacker.localhost.evil", "10.0.0.5:3000", "chat.lan.evil", "0.0.0.0:3000"]) {
      expect(allowed(host), host).toBe("not_allowed");
    }
  });

  it("with auth: any host, unless ALLOWED_HOSTS narrows it", () => {
    expect(createHostGuard({ authTokens: tokens, allowedHosts: [] })("anything.example:1")).toBe("allowed");
    const narrowed = createHostGuard({ authTokens: tokens, allowedHosts: ["chat.example.com"] });
    expect(narrowed("chat.example.com")).toBe("allowed");
    expect(narrowed("other.example.com")).toBe("not_allowed");
  });
});

describe("malformed Host headers", () => {
  it("are malformed whatever the configuration (they are no host name at all)", () => {
    const guards = [
      createHostGuard({ authTokens: null, allowedHosts: [] }),
      createHostGuard({ authTokens: [{ userId: "a", token: "aaaaaaaa" }], allowedHosts: [] }),
      createHostGuard({ authTokens: [{ userId: "a", token: "aaaaaaaa" }], allowedHosts: ["chat.example.com"] }),
    ];
    for (const allowed of guards) {
      for (const host of ["exa mple", "[", "a:b:c", "%", "localhost:99999", "", "localhost:3000/x"]) {
        expect(allowed(host), JSON.stringify(host)).toBe("malformed");
      }
      expect(allowed("localhost:3000")).toBe("allowed");
    }
  });
});

describe("malformed Host headers over HTTP", () => {
  it("get a 400 bad_request JSON answer on every route, never a 500 (nor the 403 of a host name not served)", async () => {
    const { connect } = await import("node:net");
    const { startTestApi } = await import("./test-support/harness.js");
    const api = await startTestApi({ env: { AUTH_TOKENS: "alice:alice-token-1" } });
    try {
      const { port } = new URL(api.url);
      const raw = (request: string) =>
        new Promise<string>((resolve) => {
          const socket = connect(Number(port), "127.0.0.1");
          let received = "";
          socket.on("data", (chunk: Buffer) => (received += chunk.toString("utf8")));
          socket.on("error", () => {});
          socket.on("close", () => resolve(received));
          socket.write(request);
        });
      const body = JSON.stringify({ message: "hi" });
      const auth = "authorization: Bearer alice-token-1\r\n";
      for (const host of ["exa mple", "[", "a:b:c", "localhost:99999"]) {
        for (const request of [
          `POST /trpc/chat.send HTTP/1.1\r\nhost: ${host}\r\n${auth}content-type: application/json\r\ncontent-length: ${body.length}\r\nconnection: close\r\n\r\n${body}`,
          `GET /trpc/health HTTP/1.1\r\nhost: ${host}\r\nconnection: close\r\n\r\n`,
          `GET /trpc/chat.events?input=%7B%22runId%22%3A%22x%22%7D HTTP/1.1\r\nhost: ${host}\r\n${auth}connection: close\r\n\r\n`,
          `POST /api/chat HTTP/1.1\r\nhost: ${host}\r\n${auth}content-type: application/json\r\ncontent-length: ${body.length}\r\nconnection: close\r\n\r\n${body}`,
        ]) {
          const answer = await raw(request);
          const what = `${request.split("\r\n", 1)[0]} with Host ${JSON.stringify(host)}`;
          expect(answer, what).toMatch(/^HTTP\/1\.1 400 /);
          expect(JSON.parse(answer.slice(answer.indexOf("\r\n\r\n") + 4)), what).toEqual({
            error: "The Host header is not a valid host name and port: send the name the server is reached at, e.g. localhost:3000.",
            code: "bad_request",
          });
        }
      }
      // A proper host name still works with tokens (any host is fine then).
      const ok = await raw(`GET /trpc/health HTTP/1.1\r\nhost: chat.example.com:8080\r\nconnection: close\r\n\r\n`);
      expect(ok).toMatch(/^HTTP\/1\.1 200 /);
    } finally {
      await api.close();
    }
  });
});
