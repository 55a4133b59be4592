import helmet from "helmet";
import { describe, expect, it } from "vitest";
import { constantHeaders, type HeaderMiddleware } from "./security-headers.js";

describe("constantHeaders", () => {
  it("records what helmet sets, by lower-case name, and what it removes", () => {
    const headers = constantHeaders(helmet({ contentSecurityPolicy: { useDefaults: false, directives: { defaultSrc: ["'self'"] } } }));
    expect(headers).toMatchObject({
      "content-security-policy": "default-src 'self'",
      "x-content-type-options": "nosniff",
      "x-frame-options": "SAMEORIGIN",
    });
    expect(Object.isFrozen(headers)).toBe(true);
    const removing: HeaderMiddleware = (_req, res, next) => {
      res.setHeader("X-Powered-By", "x");
      res.setHeader("X-Kept", ["a", "b"]);
      res.removeHeader("x-powered-by");
      next();
    };
    expect(constantHeaders(removing)).toEqual({ "x-kept": "a, b" });
  });

  it("refuses a middleware that fails or that does not finish at once", () => {
    expect(() => constantHeaders((_req, _res, next) => next(new Error("bad directive")))).toThrow("bad directive");
    expect(() => constantHeaders((_req, _res, next) => void setImmediate(next))).toThrow("did not finish synchronously");
  });
});
