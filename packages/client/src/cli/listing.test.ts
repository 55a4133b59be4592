import { describe, expect, it } from "vitest";
import type { ConversationSummary, SearchHit } from "../client.js";
import { conversationLine, modelLines, oneLine, relativeTime, searchHitLine, type ListedModel } from "./listing.js";

const id = "0b7e5f1a-2c3d-4e5f-8a9b-0c1d2e3f4a5b";
const now = Date.UTC(2025, 5, 10, 12, 0, 0);
const minute = 60_000;

function conversation(fields: Partial<ConversationSummary> = {}): ConversationSummary {
  return { id, title: "Plan the trip", createdAt: now - 5 * minute, updatedAt: now - 5 * minute, pinnedAt: null, archivedAt: null, activeRunId: null, ...fields };
}

describe("oneLine", () => {
  it("puts a title with line breaks, tabs and terminal escapes on one line", () => {
    expect(oneLine("Line one\nLine two\r\n\tthree")).toBe("Line one Line two three");
    // ESC (which would colour or move the cursor), other C0/C1 controls, DEL, Unicode line and paragraph separators.
    expect(oneLine("\x1b[31mred\x1b[0m\u0085x\u2028y\u2029z\x7f!\x07")).toBe("[31mred [0m x y z !");
    // Bidirectional overrides would show the rest of the line reversed.
    expect(oneLine("abc\u202edef\u2066g\u2069")).toBe("abcdefg");
    expect(oneLine("  \n ")).toBe("");
    expect(oneLine("café 😀 日本")).toBe("café 😀 日本");
  });
});

describe("relativeTime", () => {
  it("says how long ago as the web app's list does, and the date beyond a week", () => {
    expect(relativeTime(now, now)).toBe("just now");
    expect(relativeTime(now - 59_000, now)).toBe("just now");
    // A server clock ahead of this one.
    expect(relativeTime(now + 5000, now)).toBe("just now");
    expect(relativeTime(now - 5 * minute, now)).toBe("5 min ago");
    expect(relativeTime(now - 3 * 60 * minute, now)).toBe("3 h ago");
    expect(relativeTime(now - 2 * 24 * 60 * minute, now)).toBe("2 d ago");
    const old = new Date(2024, 0, 31, 9, 30).getTime();
    expect(relativeTime(old, now)).toBe("2024-01-31");
  });
});

describe("conversationLine", () => {
  it("is the id, the last activity in a column of its own, and the title, marked when pinned or answering", () => {
    expect(conversationLine(conversation(), now, undefined)).toBe(`${id}  5 min ago   Plan the trip`);
    expect(conversationLine(conversation({ updatedAt: now }), now, undefined)).toBe(`${id}  just now    Plan the trip`);
    expect(conversationLine(conversation({ pinnedAt: now - minute }), now, undefined)).toBe(`${id}  5 min ago   Plan the trip (pinned)`);
    expect(conversationLine(conversation({ activeRunId: "r1" }), now, undefined)).toBe(`${id}  5 min ago   Plan the trip (answering)`);
    expect(conversationLine(conversation({ pinnedAt: 1, activeRunId: "r1" }), now, undefined)).toBe(`${id}  5 min ago   Plan the trip (pinned, answering)`);
  });

  it("flattens the title, names an empty one Untitled, and shortens a long one to the terminal's width, marks kept", () => {
    expect(conversationLine(conversation({ title: "Two\nlines" }), now, undefined)).toBe(`${id}  5 min ago   Two lines`);
    expect(conversationLine(conversation({ title: " \n" }), now, undefined)).toBe(`${id}  5 min ago   Untitled`);
    const long = "word ".repeat(40).trim();
    // Not a terminal: whole, for a script.
    expect(conversationLine(conversation({ title: long }), now, undefined)).toBe(`${id}  5 min ago   ${long}`);
    const line = conversationLine(conversation({ title: long, pinnedAt: 1 }), now, 80);
    expect(line).toHaveLength(80);
    expect(line).toMatch(/^\S+ {2}5 min ago {3}word word .*… \(pinned\)$/);
    // A title that fits is left alone.
    expect(conversationLine(conversation(), now, 80)).toBe(`${id}  5 min ago   Plan the trip`);
  });
});

describe("searchHitLine", () => {
  const hit: SearchHit = { conversationId: id, title: "Animals", messageId: 7, role: "assistant", snippet: "…The quokka lives on Rottnest Island…", createdAt: now, archivedAt: null };

  it("is the conversation id, its title and the passage", () => {
    expect(searchHitLine(hit, "rottnest", undefined)).toBe(`${id}  Animals — …The quokka lives on Rottnest Island…`);
    expect(searchHitLine({ ...hit, title: "A\ntitle", snippet: "x\ty" }, "x", 200)).toBe(`${id}  A title — x y`);
  });

  it("says (archived) after the title of an archived chat, within the terminal's width", () => {
    const archived = { ...hit, archivedAt: now - minute };
    expect(searchHitLine(archived, "rottnest", undefined)).toBe(`${id}  Animals (archived) — …The quokka lives on Rottnest Island…`);
    const line = searchHitLine({ ...archived, snippet: "s".repeat(200) }, "s", 100);
    expect(line).toHaveLength(100);
    expect(line).toBe(`${id}  Animals (archived) — ${"s".repeat(40)}…`);
  });

  it("on a narrow terminal shortens the title to a third at most and the passage to the rest", () => {
    const long = { ...hit, title: "T".repeat(100), snippet: "s".repeat(200) };
    const line = searchHitLine(long, "s", 100);
    expect(line).toHaveLength(100);
    // 100 - 36 (id) - 2 - 3 (" — ") = 59 columns: a title of 19, a passage of 40.
    expect(line).toBe(`${id}  ${"T".repeat(18)}… — ${"s".repeat(39)}…`);
    // A short title stays whole; the passage gets the rest.
    expect(searchHitLine({ ...long, title: "Animals" }, "s", 100)).toBe(`${id}  Animals — ${"s".repeat(51)}…`);
  });

  it("keeps the words found in the shortened passage, cutting before them when they would be past the end", () => {
    // The API's passage: up to 40 characters before the match.
    const snippet = `…${"a".repeat(40)}Needle${"b".repeat(80)}…`;
    const line = searchHitLine({ ...hit, title: "T", snippet }, "needle", 36 + 2 + 1 + 3 + 30);
    // 30 columns: "…", 7 of the a's (a third of what the match leaves), the match, the b's, "…".
    expect(line).toBe(`${id}  T — …${"a".repeat(7)}Needle${"b".repeat(15)}…`);
    // Where the match fits the room anyway, only the end is cut.
    expect(searchHitLine({ ...hit, title: "T", snippet: `x Needle ${"b".repeat(80)}` }, "needle", 72)).toBe(`${id}  T — x Needle ${"b".repeat(20)}…`);
    // A surrogate pair is never cut in half at the start.
    const emoji = searchHitLine({ ...hit, title: "T", snippet: `${"😀".repeat(20)}Needle${"b".repeat(80)}` }, "needle", 72);
    expect(emoji).toBe(`${id}  T — …${"😀".repeat(3)}Needle${"b".repeat(16)}…`);
  });
});

describe("modelLines", () => {
  const model = (name: string, capabilitiesInWords: string[]): ListedModel => ({ name, capabilities: ["completion"], capabilitiesInWords });

  it("names each model in one column, marks the default, and says what it can do in the API's words", () => {
    const lines = modelLines({
      defaultModel: "demo",
      models: [
        model("demo", ["uses tools", "thinks", "128K context"]),
        model("gpt-oss", ["uses tools", "thinks (low, medium, high)", "128K context"]),
        model("plain", []),
      ],
    });
    expect(lines).toEqual([
      "demo (default)  uses tools · thinks · 128K context",
      "gpt-oss         uses tools · thinks (low, medium, high) · 128K context",
      "plain",
    ]);
  });

  it("falls back to the raw capability names of an API older than capabilitiesInWords", () => {
    const older = { name: "old", capabilities: ["completion", "tools", "vision"] } as unknown as ListedModel;
    expect(modelLines({ defaultModel: "x", models: [older] })).toEqual(["old  tools · vision"]);
  });
});
