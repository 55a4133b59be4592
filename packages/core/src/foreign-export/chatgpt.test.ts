import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { chatGptReader } from "./chatgpt.js";
import { ForeignExportError, type ForeignConversationDocument } from "./document.js";
import type { ForeignFile } from "./read.js";

const now = 1_750_000_000_000;

type Json = Record<string, unknown>;

const exported = JSON.parse(readFileSync(new URL("./testdata/chatgpt-export.json", import.meta.url), "utf8")) as Json[];

/** A conversation of the test export, by title, copied so a test may change it. */
function fromExport(title: string): Json {
  const conversation = exported.find((c) => c.title === title);
  if (!conversation) throw new Error(`no conversation "${title}" in the test export`);
  return structuredClone(conversation);
}

function read(conversation: unknown) {
  const { document, leftOut } = chatGptReader.read(conversation, now);
  return { document, leftOut: leftOut.words() };
}

/** [id, parentId, role, content] of each message: the tree at a glance. */
function tree(document: ForeignConversationDocument) {
  return document.messages.map((m) => [m.id, m.parentId, m.message.role, m.message.content]);
}

// Hand-made conversations for the cases the test export does not hold: nodes as [id, parent, message], children
// listed in the order given, create_time one second apart unless a message sets its own.
type NodeSpec = [id: string, parent: string | null, message: Json | null];

function conversation(nodes: NodeSpec[], fields: Json = {}): Json {
  const children = new Map<string, string[]>();
  for (const [id, parent] of nodes) if (parent !== null) children.set(parent, [...(children.get(parent) ?? []), id]);
  const mapping: Json = {};
  nodes.forEach(([id, parent, message], i) => {
    const withTime = message && !("create_time" in message) ? { ...message, create_time: 1_700_000_000 + i } : message;
    mapping[id] = { id, message: withTime && { id, ...withTime }, parent, children: children.get(id) ?? [] };
  });
  const last = nodes.at(-1)?.[0];
  return { title: "Hand-made", create_time: 1_700_000_000, update_time: 1_700_000_100, mapping, current_node: last, conversation_id: "c-1", ...fields };
}

function message(role: string, content: Json, fields: Json = {}): Json {
  return { author: { role, name: null, metadata: {} }, content, status: "finished_successfully", weight: 1, metadata: {}, recipient: "all", ...fields };
}
const user = (text: string, fields: Json = {}) => message("user", { content_type: "text", parts: [text] }, fields);
const assistant = (text: string, fields: Json = {}) => message("assistant", { content_type: "text", parts: [text] }, fields);
const hiddenSystem = message("system", { content_type: "text", parts: [""] }, { metadata: { is_visually_hidden_from_conversation: true } });
const toolCall = (recipient: string, code: string) => message("assistant", { content_type: "code", language: "unknown", text: code }, { recipient });

describe("chatGptReader.matches and titleOf", () => {
  it("takes an object with a mapping and a title or current_node, and nothing else", () => {
    expect(chatGptReader.matches(exported[0])).toBe(true);
    expect(chatGptReader.matches({ mapping: {}, current_node: "a" })).toBe(true);
    expect(chatGptReader.matches({ mapping: {}, title: null })).toBe(true);
    expect(chatGptReader.matches({ mapping: {} })).toBe(false);
    expect(chatGptReader.matches({ mapping: [], title: "x" })).toBe(false);
    expect(chatGptReader.matches({ mapping: null, title: "x" })).toBe(false);
    expect(chatGptReader.matches({ uuid: "x", name: "A Claude chat", chat_messages: [] })).toBe(false);
    expect(chatGptReader.matches(null)).toBe(false);
    expect(chatGptReader.matches("conversations")).toBe(false);
  });

  it("gives the title when it is a string, else nothing", () => {
    expect(chatGptReader.titleOf(exported[0])).toBe("Sourdough starter tips");
    expect(chatGptReader.titleOf({ mapping: {}, title: null })).toBe("");
    expect(chatGptReader.titleOf(42)).toBe("");
  });
});

describe("chatGptReader.read", () => {
  it("reads a two-turn conversation: times in ms, ids from 1, each message under the one before, the last one shown", () => {
    const { document, leftOut } = read(fromExport("Sourdough starter tips"));
    expect(leftOut).toEqual([]);
    expect(document).toEqual({
      format: "streamchat.conversation",
      version: 1,
      exportedAt: now,
      conversation: { id: "662a3f30-8b1c-8004-9e5d-4c1f2b3a4d5e", title: "Sourdough starter tips", createdAt: 1714049200512, updatedAt: 1714049385104 },
      activeMessageId: 4,
      messages: [
        { id: 1, parentId: null, runId: null, createdAt: 1714049200738, message: { role: "user", content: "My sourdough starter smells like nail polish remover. Is it dead?" } },
        {
          id: 2,
          parentId: 1,
          runId: null,
          createdAt: 1714049203117,
          message: {
            role: "assistant",
            content: "Not dead, just hungry. The acetone smell means the yeast ran out of food. Feed it twice a day at 1:1:1 for two days and the smell will go.",
          },
        },
        { id: 3, parentId: 2, runId: null, createdAt: 1714049380200, message: { role: "user", content: "And how warm should it be?" } },
        { id: 4, parentId: 3, runId: null, createdAt: 1714049384900, message: { role: "assistant", content: "Around 24–26 °C. Colder slows it down; it will still work." } },
      ],
      runs: [],
    });
  });

  it("skips the root, the hidden system prompt and custom instructions, even were they not marked hidden", () => {
    const chat = fromExport("Sourdough starter tips");
    const instructions = (chat.mapping as Record<string, { message: Json }>)["7d9e2a10-55c1-4e0b-8f3a-2c6d7e8f9a01"];
    if (!instructions) throw new Error("test export changed");
    instructions.message.metadata = {};
    const { document, leftOut } = read(chat);
    expect(document.messages.map((m) => m.message.role)).toEqual(["user", "assistant", "user", "assistant"]);
    expect(document.messages[0]?.parentId).toBeNull();
    expect(leftOut).toEqual([]);
  });

  it("takes the conversation id from conversation_id, else id, else none; the title from the first question when it has none", () => {
    const chat = conversation([["root", null, null], ["q", "root", user("How do I\nboil an egg?")], ["a", "q", assistant("Ten minutes.")]], { title: null });
    delete chat.conversation_id;
    expect(read({ ...chat, id: "old-id" }).document.conversation).toMatchObject({ id: "old-id", title: "How do I" });
    expect(read(chat).document.conversation.id).toBe("");
  });

  describe("versions", () => {
    const edit = {
      question1: "aaa21111-0000-4000-8000-000000000001",
      answer1: "b2222222-0000-4000-8000-000000000002",
      answer1Regenerated: "b2222222-0000-4000-8000-000000000003",
      answer2: "b4444444-0000-4000-8000-000000000005",
      answer2AfterEdit: "b4444444-0000-4000-8000-000000000007",
    };

    it("keeps edited questions and regenerated answers as siblings, in ChatGPT's order, the shown older version active", () => {
      const { document } = read(fromExport("Lisbon weekend plan"));
      expect(tree(document)).toEqual([
        [1, null, "user", "Plan a weekend in Lisbon for two."],
        [2, 1, "assistant", "**Saturday:** Alfama and the castle. **Sunday:** Belém and the MAAT."],
        [3, 2, "user", "Make Sunday cheaper."],
        [4, 3, "assistant", "Skip the MAAT: walk the riverside to the Padrão instead, free."],
        [5, 2, "user", "Make Sunday cheaper, and no museums."],
        [6, 5, "assistant", "Sunday: LX Factory in the morning, then the Time Out Market."],
        [7, 1, "assistant", "Day one: Baixa and a tram 28 ride. Day two: Sintra by train."],
      ]);
      // current_node is the answer to the first version of the edited question, under the first version of answer 1.
      expect(document.activeMessageId).toBe(4);
    });

    it("shows whichever version current_node names", () => {
      const chat = fromExport("Lisbon weekend plan");
      expect(read({ ...chat, current_node: edit.answer2AfterEdit }).document.activeMessageId).toBe(6);
      expect(read({ ...chat, current_node: edit.answer1Regenerated }).document.activeMessageId).toBe(7);
      // A current_node that is not a leaf: the path ends there.
      expect(read({ ...chat, current_node: edit.answer1 }).document.activeMessageId).toBe(2);
      expect(read({ ...chat, current_node: edit.question1 }).document.activeMessageId).toBe(1);
    });

    it("without a known current_node shows the newest leaf's path", () => {
      const chat = fromExport("Lisbon weekend plan");
      // The regenerated answer 1 is the newest message of all.
      expect(read({ ...chat, current_node: "gone" }).document.activeMessageId).toBe(7);
      const withoutCurrent: Json = { ...chat };
      delete withoutCurrent.current_node;
      expect(read(withoutCurrent).document.activeMessageId).toBe(7);
      const mapping = chat.mapping as Record<string, { message: Json }>;
      const regenerated = mapping[edit.answer1Regenerated];
      if (!regenerated) throw new Error("test export changed");
      regenerated.message.create_time = 1716200050;
      expect(read({ ...chat, current_node: null }).document.activeMessageId).toBe(6);
    });

    it("without times either, shows the version listed last: ChatGPT lists a regenerated answer after the first", () => {
      const untimed = (m: Json) => ({ ...m, create_time: null });
      const chat = conversation([["q", null, untimed(user("Pick a colour"))], ["a1", "q", untimed(assistant("Blue."))], ["a2", "q", untimed(assistant("Green."))]], { current_node: null });
      expect(tree(read(chat).document)).toEqual([
        [1, null, "user", "Pick a colour"],
        [2, 1, "assistant", "Blue."],
        [3, 1, "assistant", "Green."],
      ]);
      expect(read(chat).document.activeMessageId).toBe(3);
    });

    it("gives each branch below an assistant-side node its own copy of the answer so far", () => {
      const chat = conversation([
        ["root", null, null],
        ["q", "root", user("Weather in Oslo and Bergen?")],
        ["a", "q", assistant("Let me look both up.")],
        ["call1", "a", toolCall("browser", "search('Oslo weather')")],
        ["call2", "a", toolCall("browser", "search('Bergen weather')")],
        ["a1", "call1", assistant("Oslo: 4 °C, clear.")],
        ["a2", "call2", assistant("Bergen: 7 °C, rain.")],
      ]);
      const { document, leftOut } = read(chat);
      expect(tree(document)).toEqual([
        [1, null, "user", "Weather in Oslo and Bergen?"],
        [2, 1, "assistant", "Let me look both up.\n\nOslo: 4 °C, clear."],
        [3, 1, "assistant", "Let me look both up.\n\nBergen: 7 °C, rain."],
      ]);
      expect(document.activeMessageId).toBe(3);
      expect(leftOut).toEqual(["2 tool calls"]);
    });

    it("writes an answer once when branches part without adding to it", () => {
      const chat = conversation([
        ["root", null, null],
        ["q", "root", user("Hi")],
        ["a", "q", assistant("Hello!")],
        ["hidden", "a", message("assistant", { content_type: "model_editable_context", model_set_context: "" }, { metadata: { is_visually_hidden_from_conversation: true } })],
        ["q2", "a", user("Bye")],
      ]);
      const { document } = read(chat);
      expect(tree(document)).toEqual([
        [1, null, "user", "Hi"],
        [2, 1, "assistant", "Hello!"],
        [3, 2, "user", "Bye"],
      ]);
      expect(document.activeMessageId).toBe(3);
    });

    it("puts a question under the previous question when the answer between them showed nothing", () => {
      const failed = message("assistant", { content_type: "text", parts: [""] }, { status: "finished_partial_completion" });
      const chat = conversation([["root", null, null], ["q1", "root", user("First")], ["a1", "q1", failed], ["q2", "a1", user("Again?")], ["a2", "q2", assistant("Yes.")]]);
      expect(tree(read(chat).document)).toEqual([
        [1, null, "user", "First"],
        [2, 1, "user", "Again?"],
        [3, 2, "assistant", "Yes."],
      ]);
    });
  });

  describe("answers", () => {
    it("makes a code-interpreter turn one answer: the code it ran and what that printed, fenced where they ran, then its text", () => {
      const { document, leftOut } = read(fromExport("2^100 mod 97"));
      expect(document.messages).toEqual([
        { id: 1, parentId: null, runId: null, createdAt: 1718000000500, message: { role: "user", content: "What is 2**100 mod 97? Check it with Python." } },
        // Dated by its first node, the call.
        {
          id: 2,
          parentId: 1,
          runId: null,
          createdAt: 1718000003000,
          message: { role: "assistant", content: "```python\npow(2, 100, 97)\n```\n\n```output\n16\n```\n\n2¹⁰⁰ mod 97 = **16**." },
        },
      ]);
      expect(leftOut).toEqual([]);
      // Archived in ChatGPT: archived here too, at its last change there; the others are not.
      expect(document.conversation.archivedAt).toBe(1_718_000_012_000);
      expect(read(fromExport("Rust 1.85 release")).document.conversation).not.toHaveProperty("archivedAt");
    });

    it("turns a reasoning model's thoughts into thinking, leaves out the recap and the search, and links the cited page", () => {
      const { document, leftOut } = read(fromExport("Rust 1.85 release"));
      expect(document.messages.map((m) => m.message)).toEqual([
        { role: "user", content: "What is new in Rust 1.85?" },
        {
          role: "assistant",
          content:
            "Rust 1.85 stabilizes the 2024 edition and async closures. ([Rust Blog](https://blog.rust-lang.org/2025/02/20/Rust-1.85.0.html))\n\nIt also adds `#[diagnostic::do_not_recommend]`, made by the Rust team.",
          thinking:
            "**Checking the release notes**\n\nThe user asks about Rust 1.85; I should search for the release announcement.\n\nThe 2024 edition shipped in 1.85, with async closures.",
        },
      ]);
      expect(leftOut).toEqual(["1 tool call"]);
    });

    it("strips old-style citation markers and stray markup characters", () => {
      const text = "The tower is 330 m tall【12†source】. It was built for the 1889 fair 【4:0†history.pdf】.\n\ue203Quoted claim\ue204 \ue200cite\ue202turn0news3\ue202turn0search1\ue201";
      const { document } = read(conversation([["q", null, user("Eiffel tower?")], ["a", "q", assistant(text)]]));
      expect(document.messages[1]?.message.content).toBe("The tower is 330 m tall. It was built for the 1889 fair.\nQuoted claim");
    });

    it("keeps an answer that is only reasoning, and drops one that showed nothing at all", () => {
      const thoughts = message("assistant", { content_type: "thoughts", thoughts: [{ summary: "Counting", content: "" }, { content: "3 r's." }] });
      const recap = message("assistant", { content_type: "reasoning_recap", content: "Thought for 3s" });
      const onlyThinking = read(conversation([["q", null, user("How many r's in strawberry?")], ["t", "q", thoughts], ["r", "t", recap]])).document;
      expect(onlyThinking.messages[1]?.message).toEqual({ role: "assistant", content: "", thinking: "**Counting**\n\n3 r's." });
      const nothing = read(conversation([["q", null, user("Hm")], ["r", "q", recap]])).document;
      expect(tree(nothing)).toEqual([[1, null, "user", "Hm"]]);
    });

    it("counts the images DALL·E made and the call that made them", () => {
      const { document, leftOut } = read(fromExport("Cat astronaut"));
      expect(document.messages.map((m) => m.message.content)).toEqual(["Draw a cat in a space suit.", "Here is your cat astronaut, floating above Earth."]);
      expect(leftOut).toEqual(["1 tool call", "1 image"]);
    });

    describe("code it ran", () => {
      const output = (text: string, fields: Json = {}) =>
        message("tool", { content_type: "execution_output", text }, { author: { role: "tool", name: "python", metadata: {} }, ...fields });

      it("counts the charts code made, and shows no output for a run that only drew", () => {
        const chart = output("<<ImageDisplayed>>", {
          metadata: { aggregate_result: { status: "success", messages: [{ message_type: "image", image_url: "file-service://file-chart", width: 800, height: 600 }] } },
        });
        const chat = conversation([["q", null, user("Plot it")], ["c", "q", toolCall("python", "plt.plot(x)")], ["o", "c", chart], ["a", "o", assistant("Here is the plot.")]]);
        const { document, leftOut } = read(chat);
        expect(document.messages[1]?.message.content).toBe("```python\nplt.plot(x)\n```\n\nHere is the plot.");
        expect(leftOut).toEqual(["1 image"]);
        // Printed text beside a chart keeps the text, not the placeholder.
        const mixed = conversation([["q", null, user("Plot it")], ["c", "q", toolCall("python", "print(3); plt.show()")], ["o", "c", output("3\n<<ImageDisplayed>>\n")]]);
        expect(read(mixed).document.messages[1]?.message.content).toBe("```python\nprint(3); plt.show()\n```\n\n```output\n3\n```");
      });

      it("shows every run of a turn in order, each fence longer than the backticks it holds", () => {
        const chat = conversation([
          ["q", null, user("Two steps")],
          ["c1", "q", toolCall("python", "s = '```'\nprint(s)")],
          ["o1", "c1", output("```")],
          ["c2", "o1", toolCall("python_user_visible", "print(len(s))")],
          ["o2", "c2", message("tool", { content_type: "execution_output", text: "3" }, { author: { role: "tool", name: "python_user_visible", metadata: {} } })],
          ["a", "o2", assistant("Done.")],
        ]);
        expect(read(chat).document.messages[1]?.message.content).toBe(
          "````python\ns = '```'\nprint(s)\n````\n\n````output\n```\n````\n\n```python\nprint(len(s))\n```\n\n```output\n3\n```\n\nDone.",
        );
      });

      it("leaves out a reasoning model's private runs and their output, counted, and keeps the runs it showed", () => {
        const thoughts = message("assistant", { content_type: "thoughts", thoughts: [{ summary: "Checking", content: "Let me compute it." }] });
        const chat = conversation([
          ["q", null, user("2**100 mod 97?")],
          ["t", "q", thoughts],
          ["c", "t", toolCall("python", "pow(2, 100, 97)")],
          ["o", "c", output("16")],
          ["v", "o", toolCall("python_user_visible", "print(16)")],
          ["w", "v", message("tool", { content_type: "execution_output", text: "16" }, { author: { role: "tool", name: "python_user_visible", metadata: {} } })],
          ["a", "w", assistant("It is 16.")],
        ]);
        const { document, leftOut } = read(chat);
        expect(document.messages[1]?.message).toEqual({
          role: "assistant",
          content: "```python\nprint(16)\n```\n\n```output\n16\n```\n\nIt is 16.",
          thinking: "**Checking**\n\nLet me compute it.",
        });
        expect(leftOut).toEqual(["1 tool call"]);
        // Said on the analysis channel (newer exports): private without reasoning before it too.
        const analysis = conversation([
          ["q", null, user("Check")],
          ["c", "q", { ...toolCall("python", "1 + 1"), channel: "analysis" }],
          ["o", "c", output("2")],
          ["a", "o", assistant("Yes.")],
        ]);
        expect(read(analysis).document.messages[1]?.message.content).toBe("Yes.");
        expect(read(analysis).leftOut).toEqual(["1 tool call"]);
      });
    });
  });

  describe("citations", () => {
    /** What the reader makes of an answer's text with this metadata. */
    function answerWith(text: string, metadata: Json): string {
      const { document } = read(conversation([["q", null, user("Sources?")], ["a", "q", assistant(text, { metadata })]]));
      return document.messages[1]?.message.content ?? "";
    }
    const cite = (...turns: string[]) => `\ue200cite${turns.map((turn) => `\ue202${turn}`).join("")}\ue201`;
    /** A newer export's reference to the first `marker` in `text`, its indices counted in code points as ChatGPT's are. */
    function reference(text: string, marker: string, fields: Json): Json {
      const start = [...text.slice(0, text.indexOf(marker))].length;
      const end = start + [...marker].length;
      return { matched_text: marker, start_idx: start, end_idx: end, safe_urls: [], refs: [], alt: null, prompt_text: null, type: "grouped_webpages", ...fields };
    }
    /** A page of a reference's `items`, as ChatGPT writes one. */
    const page = (fields: Json): Json => ({ pub_date: null, snippet: "…", attribution_segments: null, supporting_websites: [], refs: [], hue: null, attributions: null, ...fields });
    /** An older export's citation of `text`'s first `marker`, indices in code points. */
    function legacy(text: string, marker: string, metadata: Json): Json {
      const start = [...text.slice(0, text.indexOf(marker))].length;
      return { start_ix: start, end_ix: start + [...marker].length, citation_format_type: "tether_og", metadata };
    }

    it("links a newer export's cited page where its marker was, named by its site, without ChatGPT's tracking tag", () => {
      const paris = "\ue200entity\ue202[\"people\",\"Anne Hidalgo\"]\ue201";
      const text = `Paris hosted the 2024 Olympics. ${cite("turn0search0")} Its mayor is ${paris}.`;
      const url = "https://www.reuters.com/sports/paris-olympics-2024/?utm_source=chatgpt.com";
      const references = [
        reference(text, cite("turn0search0"), { items: [page({ title: "Paris Olympics close", url, attribution: "Reuters" })], alt: `([Reuters](${url}))` }),
        reference(text, paris, { type: "entity", name: "Anne Hidalgo" }),
      ];
      expect(answerWith(text, { content_references: references, citations: [] })).toBe(
        "Paris hosted the 2024 Olympics. ([Reuters](https://www.reuters.com/sports/paris-olympics-2024/)) Its mayor is Anne Hidalgo.",
      );
    });

    it("joins the pages of one marker and the sites supporting them, each once, named by site, else title, else host", () => {
      const marker = cite("turn0search1", "turn0search0", "turn1news2");
      const text = `Rates held at 4.5%.${marker}`;
      const items = [
        page({
          title: "Fed holds rates",
          url: "https://apnews.com/article/fed-rates?utm_source=chatgpt.com&ref=a",
          attribution: "AP News",
          supporting_websites: [{ title: "Fed statement", url: "https://www.federalreserve.gov/monetarypolicy.htm", pub_date: null, attribution: "" }],
        }),
        page({ title: "", url: "https://www.federalreserve.gov/monetarypolicy.htm", attribution: "Federal Reserve" }),
        page({ title: "", url: "https://example.org/rates" }),
      ];
      expect(answerWith(text, { content_references: [reference(text, marker, { items })] })).toBe(
        "Rates held at 4.5%. ([AP News](https://apnews.com/article/fed-rates?ref=a), [Fed statement](https://www.federalreserve.gov/monetarypolicy.htm), [example.org](https://example.org/rates))",
      );
    });

    it("takes the links of ChatGPT's alt only when the items give none, checked like any other", () => {
      const text = `One ${cite("turn0search0")}, two ${cite("turn0search1")}, three ${cite("turn0search2")}.`;
      const references = [
        reference(text, cite("turn0search0"), { items: [page({ title: "From items", url: "https://items.example/a" })], alt: "([From alt](https://alt.example/a))" }),
        reference(text, cite("turn0search1"), { alt: "([BBC \\[live\\]](https://www.bbc.com/news/live?utm_source=chatgpt.com))" }),
        reference(text, cite("turn0search2"), { alt: "([Click](javascript:alert(1)))" }),
      ];
      expect(answerWith(text, { content_references: references })).toBe(
        "One ([From items](https://items.example/a)), two ([BBC \\[live\\]](https://www.bbc.com/news/live)), three.",
      );
    });

    it("removes a marker as before when its reference holds no page: no items, no url, or only urls that are not http(s)", () => {
      const text = `A ${cite("turn0search0")}. B ${cite("turn0search1")}. C ${cite("turn0search2")}. D ${cite("turn0search3")}.`;
      const references = [
        reference(text, cite("turn0search0"), { items: [] }),
        reference(text, cite("turn0search1"), { items: [page({ title: "No url", url: null })] }),
        reference(text, cite("turn0search2"), {
          items: [page({ title: "Script", url: "javascript:alert(1)" }), page({ title: "FTP", url: "ftp://files.example.com/a" }), page({ title: "Data", url: "data:text/html,hi" })],
        }),
        reference(text, cite("turn0search3"), { items: [page({ title: "Script", url: "JavaScript:alert(1)" }), page({ title: "Safe", url: "http://safe.example/" })] }),
      ];
      expect(answerWith(text, { content_references: references })).toBe("A. B. C. D ([Safe](http://safe.example/)).");
    });

    it("escapes what would end a link's text and encodes what would end its url", () => {
      const text = `See the report ${cite("turn0search0")}`;
      const items = [
        page({ title: "[PDF] Annual\nreport `2024` <draft>", url: "https://example.com/reports/annual report (2024).pdf" }),
        page({ title: "Pipe", attribution: "Wiki\ue203pedia \\", url: "https://en.wikipedia.org/wiki/Pipeline_(Unix)?q=a\\b" }),
      ];
      expect(answerWith(text, { content_references: [reference(text, cite("turn0search0"), { items })] })).toBe(
        "See the report ([\\[PDF\\] Annual report \\`2024\\` \\<draft\\>](https://example.com/reports/annual%20report%20%282024%29.pdf), [Wikipedia \\\\](https://en.wikipedia.org/wiki/Pipeline_%28Unix%29?q=a%5Cb))",
      );
    });

    it("links no hidden reference and no sources footnote: a hidden marker goes, the footnote's text and space stay", () => {
      const hidden = '\ue200image_group\ue202{"query":["Eiffel tower at night"]}\ue201';
      const text = `The tower is lit at night.${hidden} It sparkles hourly. ${cite("turn0search0")}`;
      const eiffel = page({ title: "Eiffel Tower lights", url: "https://www.toureiffel.paris/en/lights", attribution: "toureiffel.paris" });
      const references = [
        reference(text, hidden, { type: "hidden", invalid: true, items: [eiffel] }),
        reference(text, cite("turn0search0"), { items: [eiffel] }),
        // Real exports end with this entry: a space at the text's end, zero-width, listing the pages again.
        { ...reference(text, " ", { type: "sources_footnote", alt: "", sources: [{ title: "Elsewhere", url: "https://elsewhere.example/", attribution: "Elsewhere" }] }), start_idx: [...text].length, end_idx: [...text].length },
        // Bookkeeping over plain text or whitespace, even of a web-page type, never replaces it.
        reference(text, " ", { items: [eiffel] }),
        reference(text, "It sparkles", { items: [eiffel] }),
      ];
      expect(answerWith(text, { content_references: references })).toBe(
        "The tower is lit at night. It sparkles hourly. ([toureiffel.paris](https://www.toureiffel.paris/en/lights))",
      );
    });

    it("takes a marker at its index, counted in code points; else finds it in the text, a repeated one in turn", () => {
      const may = cite("turn0search2");
      const again = cite("turn0search3");
      const text = `🚀 Launched in May ${may}.\n${again} Landed in June ${may}. Orbit reached ${again}.`;
      const codePoints = (offset: number) => [...text.slice(0, offset)].length;
      const at = (offset: number, marker: string) => ({ start_idx: codePoints(offset), end_idx: codePoints(offset) + [...marker].length });
      const link = (title: string) => ({ items: [page({ title, url: `https://news.example/${title.toLowerCase().replace(" ", "-")}` })] });
      const references = [
        // Listed out of order: each index names its own occurrence (after the emoji, one less than the UTF-16 offset).
        { ...reference(text, may, link("June")), ...at(text.lastIndexOf(may), may) },
        { ...reference(text, may, link("May")), ...at(text.indexOf(may), may) },
        // Indices that point at nothing of theirs: the occurrences not yet linked, in order.
        { ...reference(text, again, link("Line start")), start_idx: 0, end_idx: 19 },
        { ...reference(text, again, link("Orbit")), start_idx: 9999, end_idx: 10018 },
      ];
      expect(codePoints(text.indexOf(may))).toBe(text.indexOf(may) - 1);
      expect(answerWith(text, { content_references: references })).toBe(
        "🚀 Launched in May ([May](https://news.example/may)).\n([Line start](https://news.example/line-start)) Landed in June ([June](https://news.example/june)). Orbit reached ([Orbit](https://news.example/orbit)).",
      );
    });

    it("links an older export's web citations at their markers; file search's, and those whose indices miss, are removed as before", () => {
      const text = "🗼 The tower is 330 m tall【12†source】. Its design was contested 【4:0†history.pdf】.\nIt is repainted every 7 years【13†source】.";
      const wikipedia = { type: "webpage", title: "Eiffel Tower - Wikipedia", url: "https://en.wikipedia.org/wiki/Eiffel_Tower", text: "…", pub_date: null, extra: { cited_message_idx: 3, search_result_idx: null, evidence_text: "source" } };
      const citations = [
        legacy(text, "【12†source】", wikipedia),
        legacy(text, "【4:0†history.pdf】", { type: "file", name: "history.pdf", id: "file-abc", text: "", extra: { cited_message_idx: 5, evidence_text: "history.pdf" } }),
        { ...legacy(text, "【13†source】", { ...wikipedia, url: "https://www.toureiffel.paris/en" }), start_ix: 2, end_ix: 7 },
        legacy(text, "【13†source】", { ...wikipedia, url: "javascript:alert(1)" }),
      ];
      expect(answerWith(text, { citations })).toBe(
        "🗼 The tower is 330 m tall ([Eiffel Tower - Wikipedia](https://en.wikipedia.org/wiki/Eiffel_Tower)). Its design was contested.\nIt is repainted every 7 years.",
      );
    });

    it("links a marker once when both shapes describe it, the newer first", () => {
      const text = `Water boils at 100 °C at sea level. ${cite("turn0search0")}`;
      const metadata = {
        content_references: [reference(text, cite("turn0search0"), { items: [page({ title: "Boiling point", url: "https://newer.example/", attribution: "Newer" })] })],
        citations: [legacy(text, cite("turn0search0"), { type: "webpage", title: "Older", url: "https://older.example/" })],
      };
      expect(answerWith(text, metadata)).toBe("Water boils at 100 °C at sea level. ([Newer](https://newer.example/))");
    });
  });

  describe("canvas", () => {
    const call = (recipient: string, args: unknown) => message("assistant", { content_type: "code", language: "json", text: JSON.stringify(args) }, { recipient });
    const answered = (textdocId: string, extra: Json = {}) =>
      message("tool", { content_type: "text", parts: ["Successfully updated text document"] }, { metadata: { canvas: { textdoc_id: textdocId, textdoc_type: "document", version: 2, ...extra } } });
    const rewrite = (replacement: string) => ({ updates: [{ pattern: ".*", multiple: false, replacement }] });

    it("shows each document in the answer that wrote it, as that answer left it, once, and counts no tool call", () => {
      const chat = conversation([
        ["q1", null, user("Write a haiku in a canvas")],
        ["c1", "q1", call("canmore.create_textdoc", { name: "Haiku", type: "document", content: "Old pond\nfrog jumps" })],
        ["t1", "c1", answered("doc1")],
        ["a1", "t1", assistant("I wrote it in the canvas.")],
        ["q2", "a1", user("Make it about rain")],
        ["c2", "q2", call("canmore.update_textdoc", rewrite("Rain on the roof\nsplash"))],
        ["t2", "c2", answered("doc1")],
        // A replacement's "$1" is text, not a reference.
        ["c3", "t2", call("canmore.update_textdoc", { updates: [{ pattern: "spl(ash)", multiple: false, replacement: "drip $1" }] })],
        ["t3", "c3", answered("doc1")],
        ["a2", "t3", assistant("Done.")],
        ["q3", "a2", user("And a script")],
        ["c4", "q3", call("canmore.create_textdoc", { name: "rain.py", type: "code/python", content: "print('```')\n" })],
        // Nothing answered it: the call names its document itself. Then a change that failed is not shown.
        ["c5", "c4", call("canmore.update_textdoc", rewrite("lost"))],
        ["t5", "c5", answered("doc1", { is_failure: true })],
      ]);
      const { document, leftOut } = read(chat);
      expect(document.messages.filter((m) => m.message.role === "assistant").map((m) => m.message.content)).toEqual([
        "**Haiku**\n\n```markdown\nOld pond\nfrog jumps\n```\n\nI wrote it in the canvas.",
        "**Haiku**\n\n```markdown\nRain on the roof\ndrip $1\n```\n\nDone.",
        "**rain.py**\n\n````python\nprint('```')\n````",
      ]);
      expect(leftOut).toEqual([]);
    });

    it("follows each branch's own document, and says when a change cannot be applied", () => {
      const chat = conversation([
        ["q1", null, user("Draft")],
        ["c1", "q1", call("canmore.create_textdoc", { name: "Draft", type: "document", content: "one" })],
        ["t1", "c1", answered("d")],
        ["q2", "t1", user("Version A")],
        ["c2", "q2", call("canmore.update_textdoc", rewrite("A"))],
        ["t2", "c2", answered("d")],
        ["q3", "t1", user("Version B")],
        // Not a JavaScript expression: the text is not known from here.
        ["c3", "q3", call("canmore.update_textdoc", { updates: [{ pattern: "(?P<x>one)", multiple: false, replacement: "B" }] })],
        ["t3", "c3", answered("d")],
      ]);
      const { document } = read(chat);
      expect(document.messages.map((m) => [m.id, m.parentId, m.message.content])).toEqual([
        [1, null, "Draft"],
        [2, 1, "**Draft**\n\n```markdown\none\n```"],
        [3, 2, "Version A"],
        [4, 3, "**Draft**\n\n```markdown\nA\n```"],
        [5, 2, "Version B"],
        [6, 5, "**Draft**\n\n*(changed here; the export does not hold its whole text)*"],
      ]);
    });
  });

  describe("questions", () => {
    it("keeps a picture's question text and marks a question that was only a picture; an attached image is counted once", () => {
      const { document, leftOut } = read(fromExport("Which bird is this?"));
      expect(tree(document)).toEqual([
        [1, null, "user", "Which bird is this? Seen near the Tagus."],
        [2, 1, "assistant", "A white stork (*Ciconia ciconia*): long red bill, black flight feathers."],
        [3, 2, "user", "[image not imported]"],
        [4, 3, "assistant", "Same stork, now on its nest."],
      ]);
      expect(leftOut).toEqual(["2 images"]);
    });

    it("puts the pictures and files found in the export on their question, and names only their ids for the archive to find", () => {
      const exportedBird = fromExport("Which bird is this?");
      const ids = chatGptReader.fileIds?.(exportedBird) ?? [];
      expect(ids.length).toBe(2);
      const stork = { type: "image", mimeType: "image/jpeg", data: "/9j/4AAQ" } as const;
      const { document, leftOut } = chatGptReader.read(exportedBird, now, new Map(ids.map((id) => [id, stork])));
      expect(document.messages.filter((m) => m.message.role === "user").map((m) => m.message)).toEqual([
        { role: "user", content: "Which bird is this? Seen near the Tagus.", images: [stork] },
        // Only a picture: no words are made up for it.
        { role: "user", content: "", images: [stork] },
      ]);
      expect(leftOut.words()).toEqual([]);
      // An uploaded file the export does not hold (or not as text) beside a found picture is still counted, and named.
      const photo = { content_type: "image_asset_pointer", asset_pointer: "file-service://file-p" };
      const attachments = [
        { id: "file-p", name: "photo.png", mimeType: "image/png" },
        { id: "file-d", name: "a.pdf", mimeType: "application/pdf" },
        { id: "file-t", name: "notes\n(draft).md", mimeType: "text/markdown" },
      ];
      const chat = conversation([["q", null, message("user", { content_type: "multimodal_text", parts: [photo] }, { metadata: { attachments } })]]);
      expect(chatGptReader.fileIds?.(chat)).toEqual(["file-p", "file-d", "file-t"]);
      const withFile = chatGptReader.read(chat, now, new Map([["file-p", stork]]));
      expect(withFile.document.messages.map((m) => m.message)).toEqual([{ role: "user", content: "[2 files not imported]", images: [stork] }]);
      expect(withFile.leftOut.words()).toEqual(["2 files"]);
      // A text file found: on the question under the name it was uploaded with (made fit to be a file's name).
      const notes = { type: "file", name: "file-t.md", text: "# Notes" } as const;
      const withText = chatGptReader.read(chat, now, new Map<string, ForeignFile>([["file-p", stork], ["file-t", notes]]));
      expect(withText.document.messages.map((m) => m.message)).toEqual([
        { role: "user", content: "[file not imported]", images: [stork], files: [{ type: "file", name: "notes (draft).md", text: "# Notes" }] },
      ]);
    });

    it("counts uploaded files and says so when they were the whole question", () => {
      const files = [
        { id: "file-a", name: "q1.pdf", size: 1200, mimeType: "application/pdf" },
        { id: "file-b", name: "q2.pdf", size: 1300, mime_type: "application/pdf" },
      ];
      const photo = { id: "file-c", name: "photo.png", size: 100, mimeType: "image/png" };
      const chat = conversation([
        ["q1", null, user("", { metadata: { attachments: files } })],
        ["a1", "q1", assistant("Both are quarterly reports.")],
        ["q2", "a1", user("", { metadata: { attachments: [...files, photo] } })],
        ["a2", "q2", assistant("Noted.")],
        ["q3", "a2", user("Summarize this", { metadata: { attachments: [files[0]] } })],
      ]);
      const { document, leftOut } = read(chat);
      expect(document.messages.filter((m) => m.message.role === "user").map((m) => m.message.content)).toEqual([
        "[2 files not imported]",
        "[2 files and 1 image not imported]",
        "Summarize this",
      ]);
      expect(leftOut).toEqual(["5 files", "1 image"]);
    });

    it("skips a question with nothing in it", () => {
      const chat = conversation([["q1", null, user("Hello")], ["q2", "q1", user("  ")], ["a", "q2", assistant("Hi!")]]);
      expect(tree(read(chat).document)).toEqual([
        [1, null, "user", "Hello"],
        [2, 1, "assistant", "Hi!"],
      ]);
    });

    it("reads a voice conversation by its transcripts, the audio left out", () => {
      const audio = { content_type: "audio_asset_pointer", asset_pointer: "sediment://file_voice", size_bytes: 90000, format: "wav", metadata: {} };
      const spoken = message("user", {
        content_type: "multimodal_text",
        parts: [{ content_type: "audio_transcription", text: "What's the capital of Peru?", direction: "in", decoding_id: null }, audio],
      });
      const reply = message("assistant", {
        content_type: "multimodal_text",
        parts: [{ content_type: "audio_transcription", text: "Lima.", direction: "out", decoding_id: null }, audio],
      });
      const { document, leftOut } = read(conversation([["q", null, spoken], ["a", "q", reply]]));
      expect(tree(document)).toEqual([
        [1, null, "user", "What's the capital of Peru?"],
        [2, 1, "assistant", "Lima."],
      ]);
      expect(leftOut).toEqual(["2 audio clips"]);
    });
  });

  describe("what it cannot read", () => {
    it("refuses a conversation without messages in a sentence", () => {
      const empty = conversation([["root", null, null], ["system", "root", hiddenSystem]]);
      expect(() => read(empty)).toThrow(new ForeignExportError("It has no messages."));
      expect(() => read({ title: "x", mapping: {} })).toThrow(new ForeignExportError("It has no messages."));
    });

    it("refuses a malformed conversation with a ForeignExportError", () => {
      for (const bad of [null, [], "text", { title: "x", mapping: "nodes" }, { title: "x", mapping: [] }, { title: "x" }]) {
        expect(() => read(bad)).toThrow(ForeignExportError);
      }
    });

    it("ignores content types, parts, nodes and fields it does not know", () => {
      const chat = conversation([
        ["root", null, null],
        ["q", "root", message("user", { content_type: "multimodal_text", parts: ["Show me", { content_type: "future_part", blob: 1 }, null, 7] })],
        ["widget", "q", message("assistant", { content_type: "some_future_widget", widget: { kind: "map" } })],
        ["quote", "widget", message("tool", { content_type: "tether_quote", url: "https://example.com", title: "Example", text: "Quoted", domain: "example.com" })],
        ["error", "quote", message("tool", { content_type: "system_error", name: "tool_error", text: "Timed out" })],
        ["critic", "error", message("critic", { content_type: "text", parts: ["?"] })],
        ["odd", "critic", { author: "nobody", content: 3 }],
        ["a", "odd", assistant("Here it is.")],
      ]);
      const mapping = chat.mapping as Json;
      mapping.junk = "not a node";
      (mapping.a as Json).children = ["missing-node", 42];
      const { document, leftOut } = read(chat);
      expect(tree(document)).toEqual([
        [1, null, "user", "Show me"],
        [2, 1, "assistant", "Here it is."],
      ]);
      expect(leftOut).toEqual([]);
    });

    it("walks a mapping with cycles without hanging, each node once", () => {
      const chat = conversation([
        ["root", null, null],
        ["q", "root", user("Loop?")],
        ["a", "q", assistant("No loop.")],
        // Unreachable from any root: each is the other's parent.
        ["x", "y", user("Lost")],
        ["y", "x", assistant("Lost too")],
      ]);
      const mapping = chat.mapping as Record<string, Json>;
      // The answer also lists the question as its child, and the question itself.
      (mapping.a as Json).children = ["q"];
      (mapping.q as Json).children = ["a", "q"];
      const { document } = read({ ...chat, current_node: "x" });
      expect(tree(document)).toEqual([
        [1, null, "user", "Loop?"],
        [2, 1, "assistant", "No loop."],
      ]);
      expect(document.activeMessageId).toBe(2);
    });

    it("follows a path tens of thousands of nodes deep", () => {
      const nodes: NodeSpec[] = [["root", null, null]];
      for (let i = 0; i < 20_000; i++) nodes.push([`n${i}`, i === 0 ? "root" : `n${i - 1}`, i % 2 === 0 ? user(`q${i}`) : assistant(`a${i}`)]);
      const { document } = read(conversation(nodes));
      expect(document.messages).toHaveLength(20_000);
      expect(document.activeMessageId).toBe(20_000);
    });
  });

  it("reads every conversation of a whole export into a document in this app's format", () => {
    expect(exported.length).toBeGreaterThanOrEqual(3);
    for (const item of exported) {
      expect(chatGptReader.matches(item)).toBe(true);
      const { document } = read(item);
      const copy = JSON.parse(JSON.stringify(document)) as ForeignConversationDocument;
      expect(copy).toEqual(document);
      expect(copy).toMatchObject({ format: "streamchat.conversation", version: 1, exportedAt: now, runs: [] });
      expect(copy.conversation.title.trim()).not.toBe("");
      expect(copy.conversation.title.length).toBeLessThanOrEqual(200);
      const ids = new Set<number>();
      copy.messages.forEach((m, i) => {
        expect(m.id).toBe(i + 1);
        if (m.parentId !== null) expect(ids.has(m.parentId)).toBe(true);
        expect(m.runId).toBeNull();
        expect(Number.isInteger(m.createdAt)).toBe(true);
        expect(["user", "assistant"]).toContain(m.message.role);
        if (m.message.role === "user") expect(m.message.content.trim()).not.toBe("");
        else expect(m.message.content.trim() !== "" || (m.message.thinking ?? "") !== "").toBe(true);
        ids.add(m.id);
      });
      expect(copy.activeMessageId).not.toBeNull();
      expect(ids.has(copy.activeMessageId ?? 0)).toBe(true);
    }
  });
});
