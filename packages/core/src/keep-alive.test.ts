import { describe, expect, it } from "vitest";
import { keepAliveSchema, parseKeepAlive } from "./keep-alive.js";

describe("parseKeepAlive", () => {
  it("reads seconds as numbers and Go durations as strings, like OLLAMA_KEEP_ALIVE", () => {
    expect(parseKeepAlive("300")).toBe(300);
    expect(parseKeepAlive("-1")).toBe(-1);
    expect(parseKeepAlive("0")).toBe(0);
    expect(parseKeepAlive(" 5m ")).toBe("5m");
    expect(parseKeepAlive("1h30m")).toBe("1h30m");
    expect(parseKeepAlive("-1m")).toBe("-1m");
    expect(parseKeepAlive("1.5h")).toBe("1.5h");
  });

  it("refuses anything Ollama would not read, naming the accepted forms", () => {
    for (const bad of ["", "soon", "5 m", "5min", "m5", "1d"]) expect(() => parseKeepAlive(bad), bad).toThrow(/duration such as "5m"/);
    const parsed = keepAliveSchema.safeParse("forever");
    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues[0]?.message).toMatch(/number of seconds/);
    expect(keepAliveSchema.parse("10m")).toBe("10m");
  });
});
