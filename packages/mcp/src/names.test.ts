import { describe, expect, it } from "vitest";
import { offeredNames } from "./names.js";

describe("offeredNames", () => {
  it("joins server and tool with __ and keeps names that need no change", () => {
    expect(offeredNames([{ server: "github", tool: "create_issue" }, { server: "every", tool: "get-sum" }])).toEqual([
      "github__create_issue",
      "every__get-sum",
    ]);
  });

  it("replaces characters outside [A-Za-z0-9_-]", () => {
    expect(offeredNames([{ server: "my server", tool: "files.read/all" }])).toEqual(["my_server__files_read_all"]);
  });

  it("shortens long names to 64 characters ending in a hash, the same every time", () => {
    const ref = { server: "a-very-long-server-name-for-testing", tool: "and_an_even_longer_tool_name_that_goes_on" };
    const [name] = offeredNames([ref]);
    expect(name).toHaveLength(64);
    expect(name).toMatch(/^a-very-long-server-name-for-testing__and_an_even_longer_[0-9a-f]{8}$/);
    expect(offeredNames([ref])).toEqual([name]);
  });

  it("makes colliding names unique, whatever the order, and an unchanged name keeps its name", () => {
    const refs = [
      { server: "s", tool: "a.b" },
      { server: "s", tool: "a_b" },
      { server: "s", tool: "a b" },
    ];
    const names = offeredNames(refs);
    expect(new Set(names).size).toBe(3);
    expect(names[1]).toBe("s__a_b");
    expect(names[0]).toMatch(/^s__a_b_[0-9a-f]{8}$/);
    expect(names[2]).toMatch(/^s__a_b_[0-9a-f]{8}$/);
    const reversed = offeredNames([...refs].reverse());
    expect(reversed).toEqual([...names].reverse());
  });

  it("makes two unchanged names unique too (server a__b + tool c, server a + tool b__c)", () => {
    const names = offeredNames([
      { server: "a__b", tool: "c" },
      { server: "a", tool: "b__c" },
    ]);
    expect(names[0]).not.toBe(names[1]);
    for (const name of names) expect(name).toMatch(/^a__b__c_[0-9a-f]{8}$/);
  });

  it("gives only valid tool names", () => {
    const names = offeredNames([{ server: "ü", tool: "ß".repeat(100) }, { server: "x", tool: "" }]);
    for (const name of names) expect(name).toMatch(/^[A-Za-z0-9_-]{1,64}$/);
  });
});
