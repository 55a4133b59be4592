import { describe, expect, it } from "vitest";
import { conversationMarkdown } from "./markdown.js";
import { conversationExportSchema, type ConversationExport, type ExportedMessage } from "./schema.js";

function doc(messages: Array<Pick<ExportedMessage, "id" | "parentId" | "message">>, activeMessageId: number | null): ConversationExport {
  return conversationExportSchema.parse({
    format: "streamchat.conversation",
    version: 1,
    exportedAt: Date.UTC(2026, 0, 2, 3, 4, 5),
    conversation: { id: "c1", title: "Trip to Tokyo", createdAt: 1, updatedAt: 2 },
    activeMessageId,
    messages: messages.map((m) => ({ ...m, runId: null, createdAt: 1 })),
    runs: [],
  });
}

describe("conversationMarkdown", () => {
  it("writes the active path: verbatim text, an answer's chain under one heading, tool calls as short quotes", () => {
    const longResult = JSON.stringify({ iso: "2026-01-01T05:05:00Z", note: "x".repeat(300) });
    const markdown = conversationMarkdown(
      doc(
        [
          { id: 1, parentId: null, message: { role: "system", content: "Be brief." } },
          { id: 2, parentId: 1, message: { role: "user", content: "What time is it in *Tokyo*?\n\n```\nkeep this fence\n```" } },
          {
            id: 3,
            parentId: 2,
            message: {
              role: "assistant",
              content: "",
              thinking: "left out of the Markdown",
              toolCalls: [{ id: "t1", name: "current_time", args: { timeZone: "Asia/Tokyo", odd: "a `tick`" } }],
            },
          },
          { id: 4, parentId: 3, message: { role: "tool", toolCallId: "t1", toolName: "current_time", content: longResult } },
          { id: 5, parentId: 4, message: { role: "assistant", content: "It is **14:05**.\n\n- one\n- two" } },
          { id: 6, parentId: 5, message: { role: "user", content: "Thanks", images: [{ mimeType: "image/jpeg", data: "AAAA" }] } as never },
          { id: 7, parentId: 6, message: { role: "assistant", content: "You're welcome." } },
          { id: 8, parentId: 5, message: { role: "user", content: "Not shown: another branch" } },
        ],
        7,
      ),
    );
    const quotedResult = `${longResult.slice(0, 159)}…`;
    expect(markdown).toBe(
      [
        "# Trip to Tokyo",
        "_Exported from streamchat on 2026-01-02T03:04:05.000Z._",
        "## System",
        "Be brief.",
        "## User",
        "What time is it in *Tokyo*?\n\n```\nkeep this fence\n```",
        "## Assistant",
        '> **Tool call** `current_time` ``{"timeZone":"Asia/Tokyo","odd":"a `tick`"}``',
        `> **Tool result** \`current_time\` \`${quotedResult}\``,
        "It is **14:05**.\n\n- one\n- two",
        "## User (version 1 of 2)",
        "> **Image** (image/jpeg)",
        "Thanks",
        "## Assistant",
        "You're welcome.",
      ].join("\n\n") + "\n",
    );
    expect(markdown).not.toContain("left out");
    expect(markdown).not.toContain("another branch");
  });

  it("leaves out the reasoning a server left in an answer's text without its opening marker, as it leaves out an answer's reasoning", () => {
    const leftOpen = "The user wants a greeting.\nKeep it short.\n</think>\n\nHello!";
    const markdown = conversationMarkdown(
      doc(
        [
          { id: 1, parentId: null, message: { role: "user", content: "Say hello" } },
          { id: 2, parentId: 1, message: { role: "assistant", content: leftOpen } },
          { id: 3, parentId: 2, message: { role: "user", content: "What does `</think>` close?" } },
          // An answer with reasoning of its own: a marker in its text is the answer's, written as it is.
          { id: 4, parentId: 3, message: { role: "assistant", content: "It closes\n</think>\n\na block.", thinking: "About tags." } },
        ],
        4,
      ),
    );
    expect(markdown).toContain("## Assistant\n\nHello!\n\n## User");
    expect(markdown).not.toContain("The user wants a greeting");
    expect(markdown).toContain("It closes\n</think>\n\na block.");
  });

  it("writes an attached text file whole, under its name, in a fence longer than any run of backticks in it", () => {
    const file = { type: "file", name: "a `b`.md", text: "Run:\n````sh\npnpm start\n````" };
    const markdown = conversationMarkdown(doc([{ id: 1, parentId: null, message: { role: "user", content: "Explain", files: [file] } as never }], 1));
    expect(markdown).toContain("## User\n\n> **File** ``a `b`.md``\n\n`````\nRun:\n````sh\npnpm start\n````\n`````\n\nExplain\n");
  });

  it("marks the versions of an answer and of a first message", () => {
    const markdown = conversationMarkdown(
      doc(
        [
          { id: 1, parentId: null, message: { role: "user", content: "first" } },
          { id: 2, parentId: 1, message: { role: "assistant", content: "old answer" } },
          { id: 3, parentId: 1, message: { role: "assistant", content: "new answer" } },
          { id: 4, parentId: null, message: { role: "user", content: "first, edited" } },
        ],
        3,
      ),
    );
    expect(markdown).toContain("## User (version 1 of 2)\n\nfirst\n\n## Assistant (version 2 of 2)\n\nnew answer\n");
    expect(conversationMarkdown(doc([], null))).toBe("# Trip to Tokyo\n\n_Exported from streamchat on 2026-01-02T03:04:05.000Z._\n");
  });

  it("quotes any tool name on one short line, however long or odd (a model or an imported file names it)", () => {
    const odd = `calc\n\n## User\n${"`a".repeat(200_000)}`;
    const markdown = conversationMarkdown(
      doc(
        [
          { id: 1, parentId: null, message: { role: "user", content: "q" } },
          { id: 2, parentId: 1, message: { role: "assistant", content: "", toolCalls: [{ id: "t1", name: odd, args: {} }] } },
          { id: 3, parentId: 2, message: { role: "tool", toolCallId: "t1", toolName: odd, content: "ok" } },
        ],
        3,
      ),
    );
    const quotes = markdown.split("\n").filter((line) => line.startsWith("> **Tool"));
    expect(quotes).toHaveLength(2);
    for (const quote of quotes) expect(quote.length).toBeLessThan(400);
    expect(markdown.match(/^## /gm)).toHaveLength(2);
  });

  it("quotes the chat's instructions under the title, every line of them", () => {
    const instructed = { ...doc([], null), conversation: { id: "c1", title: "Trip", createdAt: 1, updatedAt: 2, instructions: "Answer in French.\n\n## Not a heading" } };
    expect(conversationMarkdown(instructed)).toBe(
      "# Trip\n\n_Exported from streamchat on 2026-01-02T03:04:05.000Z._\n\n> **Chat instructions**\n>\n> Answer in French.\n>\n> ## Not a heading\n",
    );
  });

  it("names the chat's sampling, the settings chosen only, under its instructions", () => {
    const conversation = { id: "c1", title: "Trip", createdAt: 1, updatedAt: 2, instructions: "Be brief." };
    const head = "# Trip\n\n_Exported from streamchat on 2026-01-02T03:04:05.000Z._\n\n> **Chat instructions**\n>\n> Be brief.";
    const sampled = (sampling: ConversationExport["conversation"]["sampling"]) => conversationMarkdown({ ...doc([], null), conversation: { ...conversation, sampling } });
    expect(sampled({ temperature: 0.2, topP: 0.9, seed: 42 })).toBe(`${head}\n\n> **Sampling** temperature 0.2, top P 0.9, seed 42\n`);
    expect(sampled({ temperature: 0, topP: null })).toBe(`${head}\n\n> **Sampling** temperature 0\n`);
    expect(sampled({})).toBe(`${head}\n`);
    expect(sampled(undefined)).toBe(`${head}\n`);
  });

  it("writes the title as a one-line heading", () => {
    const titled = { ...doc([], null), conversation: { id: "c1", title: "Trip\n\n## User\nto Tokyo", createdAt: 1, updatedAt: 2 } };
    expect(conversationMarkdown(titled)).toBe("# Trip ## User to Tokyo\n\n_Exported from streamchat on 2026-01-02T03:04:05.000Z._\n");
  });
});
