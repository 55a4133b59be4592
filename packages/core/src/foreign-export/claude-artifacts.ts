import { isRecord } from "./json-values.js";
import { writtenDocumentMarkdown } from "./written-document.js";

// Claude's artifacts (the code, pages and documents it wrote beside an answer) as the export holds them: `tool_use`
// blocks named "artifacts" whose input creates one (`command: "create"`, its whole `content`), rewrites it whole
// ("rewrite") or changes one passage ("update": `old_str` becomes `new_str`). Claude showed each as a card in its
// answer; imported, each becomes its title and its text as of that answer, fenced, where the card was.

/** One artifact as far as the conversation has built it; `content` undefined when the export holds only changes to it. */
export interface Artifact {
  title: string;
  /** Its type as Claude wrote it ("application/vnd.ant.code", "text/html", "text/markdown"…). */
  type: string | undefined;
  language: string | undefined;
  content: string | undefined;
}

/** The artifacts by id, as a message leaves them (each message's is its own copy once it changes one). */
export type Artifacts = ReadonlyMap<string, Artifact>;

/** Whether a content block is a call of Claude's artifacts tool. */
export function isArtifactCall(block: Record<string, unknown>): boolean {
  return block.type === "tool_use" && block.name === "artifacts" && isRecord(block.input) && typeof block.input.id === "string";
}

function text(value: unknown): string | undefined {
  return typeof value === "string" ? value : undefined;
}

/**
 * `artifacts` with one more call applied; the same map when the call changes nothing it can tell. A change whose
 * passage is not in the text held (an artifact made on another branch, or before the export's messages) leaves the
 * text unknown from there on.
 */
export function applyArtifactCall(artifacts: Artifacts, block: Record<string, unknown>): Artifacts {
  const input = isRecord(block.input) ? block.input : {};
  const id = text(input.id);
  if (id === undefined) return artifacts;
  const before = artifacts.get(id);
  const base: Artifact = before ?? { title: id, type: undefined, language: undefined, content: undefined };
  const described: Artifact = {
    title: text(input.title)?.trim() || base.title,
    type: text(input.type) ?? base.type,
    language: text(input.language) ?? base.language,
    content: base.content,
  };
  let after: Artifact;
  if (input.command === "create" || input.command === "rewrite") {
    after = { ...described, content: text(input.content) ?? described.content };
  } else if (input.command === "update") {
    const oldText = text(input.old_str);
    const newText = text(input.new_str) ?? "";
    const content = described.content;
    const at = content === undefined || oldText === undefined || oldText === "" ? -1 : content.indexOf(oldText);
    after = { ...described, content: content === undefined || at < 0 ? undefined : content.slice(0, at) + newText + content.slice(at + (oldText?.length ?? 0)) };
  } else {
    return artifacts;
  }
  const next = new Map(artifacts);
  next.set(id, after);
  return next;
}

/** The fence language of an artifact: its own for code, else by its type. */
function languageOf(artifact: Artifact): string {
  if (artifact.language) return artifact.language;
  switch (artifact.type) {
    case "text/html":
      return "html";
    case "image/svg+xml":
      return "svg";
    case "text/markdown":
      return "markdown";
    case "application/vnd.ant.mermaid":
      return "mermaid";
    case "application/vnd.ant.react":
      return "jsx";
    default:
      return "";
  }
}

/** An artifact as Markdown in its answer (written-document.ts). */
export function artifactMarkdown(artifact: Artifact): string {
  return writtenDocumentMarkdown({ title: artifact.title, language: languageOf(artifact), content: artifact.content });
}
