import { describe, expect, it } from "vitest";
import { ListedDefaultModel } from "./default-model.js";

const chat = (name: string, loaded?: boolean) => ({ name, capabilities: ["completion"], ...(loaded === undefined ? {} : { loaded }) });
const embedding = (name: string) => ({ name, capabilities: ["embedding"] });

describe("ListedDefaultModel", () => {
  it("is the preferred model until a list is read, and under the name the server lists it by", () => {
    const model = new ListedDefaultModel("llama3.2");
    expect(model.name).toBe("llama3.2");
    model.seen([chat("gemma3:latest"), chat("llama3.2:latest")]);
    expect(model.name).toBe("llama3.2:latest");
  });

  it("without it, a loaded model that can chat first, else the first one; never an embedding model", () => {
    const model = new ListedDefaultModel("llama3.2");
    model.seen([embedding("nomic-embed-text:latest"), chat("gemma3:latest", false), chat("qwen3:8b", true)]);
    expect(model.name).toBe("qwen3:8b");
    const first = new ListedDefaultModel("llama3.2");
    first.seen([embedding("nomic-embed-text:latest"), chat("gemma3:latest")]);
    expect(first.name).toBe("gemma3:latest");
    // Only embedding models, or nothing listed: nothing better to choose.
    const none = new ListedDefaultModel("llama3.2");
    none.seen([embedding("nomic-embed-text:latest")]);
    none.seen([]);
    expect(none.name).toBe("llama3.2");
  });

  it("keeps its choice while the server lists it, as models load and unload, and moves on once it is gone", () => {
    const model = new ListedDefaultModel("llama3.2");
    model.seen([chat("gemma3:latest", false), chat("qwen3:8b", true)]);
    expect(model.name).toBe("qwen3:8b");
    model.seen([chat("gemma3:latest", true), chat("qwen3:8b", false)]);
    expect(model.name).toBe("qwen3:8b");
    // Pulled later, the preferred model does not take over a choice that is still there.
    model.seen([chat("gemma3:latest", true), chat("qwen3:8b", false), chat("llama3.2:latest")]);
    expect(model.name).toBe("qwen3:8b");
    model.seen([chat("gemma3:latest", true), chat("llama3.2:latest")]);
    expect(model.name).toBe("llama3.2:latest");
  });
});
