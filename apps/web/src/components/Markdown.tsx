import { memo, useState, type ComponentProps } from "react";
import ReactMarkdown, { type Components, type ExtraProps } from "react-markdown";
import rehypeHighlight from "rehype-highlight";
import remarkGfm from "remark-gfm";

type HastNode = NonNullable<ExtraProps["node"]>;
type HastChild = HastNode["children"][number];

/** The plain text of a hast subtree: what the copy button copies (highlighting adds spans around it). */
function textOf(node: HastNode | HastChild): string {
  if (node.type === "text") return node.value;
  if ("children" in node) return node.children.map(textOf).join("");
  return "";
}

function languageOf(node: HastNode | undefined): string | null {
  const code = node?.children.find((c): c is HastNode => c.type === "element" && c.tagName === "code");
  const classes = code?.properties.className;
  if (!Array.isArray(classes)) return null;
  const language = classes.map(String).find((c) => c.startsWith("language-"));
  return language ? language.slice("language-".length) : null;
}

async function copyText(text: string): Promise<boolean> {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    return false; // clipboard denied (insecure context or permissions); the code stays selectable
  }
}

function CodeBlock({ node, children, ...props }: ComponentProps<"pre"> & ExtraProps) {
  const [copied, setCopied] = useState<"idle" | "copied" | "failed">("idle");
  const language = languageOf(node);
  const onCopy = async () => {
    const ok = await copyText(node ? textOf(node).replace(/\n$/, "") : "");
    setCopied(ok ? "copied" : "failed");
    setTimeout(() => setCopied("idle"), 1500);
  };
  return (
    <div className="code-block">
      <div className="code-block__bar">
        <span className="code-block__lang">{language ?? "code"}</span>
        <button type="button" className="button button--ghost button--small" onClick={onCopy} aria-label="Copy code">
          {copied === "copied" ? "Copied" : copied === "failed" ? "Copy failed" : "Copy"}
        </button>
      </div>
      <pre {...props}>{children}</pre>
    </div>
  );
}

function Link({ node: _node, children, ...props }: ComponentProps<"a"> & ExtraProps) {
  return (
    <a {...props} target="_blank" rel="noopener noreferrer nofollow">
      {children}
    </a>
  );
}

const components: Components = { pre: CodeBlock, a: Link };
const remarkPlugins = [remarkGfm];
// Only fenced blocks with a language are highlighted; guessing costs time on every streamed frame.
const rehypePlugins = [rehypeHighlight];

/**
 * Model output as markdown. Raw HTML is not rendered (no rehype-raw: it shows as text) and
 * react-markdown's default urlTransform drops unsafe URLs such as `javascript:`.
 */
export const Markdown = memo(function Markdown({ text }: { text: string }) {
  return (
    <div className="markdown">
      <ReactMarkdown remarkPlugins={remarkPlugins} rehypePlugins={rehypePlugins} components={components}>
        {text}
      </ReactMarkdown>
    </div>
  );
});
