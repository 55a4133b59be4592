import { describe, expect, it } from "vitest";
import { offeredNames, serverNameProblem } from "./names.js";

describe("offeredNames", () => {
  it("joins server and tool with __ and keeps names that need no change", () => {
    expect(offeredNames("github", ["create_issue", "list-issues"])).toEqual(["github__create_issue", "github__list-issues"]);
  });

  it("replaces characters outside [A-Za-z0-9_-]", () => {
    expect(offeredNames("my server", ["files.read/all"])).toEqual(["my_server__files_read_all"]);
  });

  it("shortens long names to 64 characters ending in a hash, the same every time", () => {
    const tool = "and_an_even_longer_tool_name_that_goes_on_and_on";
    const [name] = offeredNames("a-very-long-server-name", [tool]);
    expect(name).toHaveLength(64);
    expect(name).toMatch(new RegExp(`^${`a-very-long-server-name__${tool}`.slice(0, 55)}_[0-9a-f]{8}$`));
    expect(offeredNames("a-very-long-server-name", [tool])).toEqual([name]);
  });

  it("makes a server's colliding names unique, whatever the order, and an unchanged name keeps its name", () => {
    const tools = ["a.b", "a_b", "a b"];
    const names = offeredNames("s", tools);
    expect(new Set(names).size).toBe(3);
    expect(names[1]).toBe("s__a_b");
    expect(names[0]).toMatch(/^s__a_b_[0-9a-f]{8}$/);
    expect(names[2]).toMatch(/^s__a_b_[0-9a-f]{8}$/);
    expect(offeredNames("s", [...tools].reverse())).toEqual([...names].reverse());
  });

  it("names a server's tools from its own tools alone: another server starting late changes none of them", () => {
    // Before, names were made over every connected server's tools: a__b's "c" arriving turned a's "b__c" from
    // a__b__c into a hashed name (a pending approval then named a tool that no longer existed).
    expect(offeredNames("a", ["b__c"])).toEqual(["a__b__c"]);
    expect(serverNameProblem("a__b")).toMatch(/must not contain "__"/);
  });

  it("gives only valid tool names", () => {
    const names = [...offeredNames("ü", ["ß".repeat(100), ""]), ...offeredNames("x", [""])];
    for (const name of names) expect(name).toMatch(/^[A-Za-z0-9_-]{1,64}$/);
  });
});

describe("serverNameProblem", () => {
  it("takes names whose prefix ends at the first __ of every tool name, and refuses the others", () => {
    for (const name of ["files", "my server", "github-2", "a_b", "x".repeat(32)]) expect(serverNameProblem(name), name).toBeUndefined();
    expect(serverNameProblem("")).toBe("must not be empty");
    expect(serverNameProblem("a__b")).toMatch(/"__"/);
    expect(serverNameProblem("a_")).toMatch(/end with "_"/);
    expect(serverNameProblem("a.")).toMatch(/end with "_"/); // "." becomes "_"
    expect(serverNameProblem("x".repeat(33))).toBe("must be at most 32 characters");
  });

  it("keeps tools of two servers apart for any tool names (no server's prefix is another's plus __ or _)", () => {
    const servers = ["a", "a-b", "a_b", "b"];
    const tools = ["c", "_c", "b__c", "b_c", "__", "x.y", "y".repeat(70)];
    const all = servers.flatMap((server) => offeredNames(server, tools));
    expect(new Set(all).size).toBe(all.length);
  });
});
