import type { Element, ElementContent, Root, RootContent, Text } from "hast";

/** Elements the caret cannot go inside (nothing renders in them). */
const voidElements = new Set(["img", "br", "hr", "input", "area", "col", "embed", "source", "track", "wbr"]);

const caret = (): Element => ({
  type: "element",
  tagName: "span",
  properties: { className: ["caret"], ariaHidden: "true", dataTestid: "caret" },
  children: [],
});

/** Math (remark-math's inline `code`, a display or ` ```math ` block's `pre`): set by KaTeX, which a caret would break. */
const isFormula = (node: Element): boolean => {
  const hasMath = (el: ElementContent) =>
    el.type === "element" && Array.isArray(el.properties.className) && el.properties.className.includes("language-math");
  return hasMath(node) || (node.tagName === "pre" && node.children.some(hasMath));
};

const isBlank = (node: RootContent | ElementContent) => node.type === "text" && node.value.trim() === "";

/**
 * A rehype plugin that puts the streaming caret at the end of the last line of text: inside the deepest last
 * element (the last list item's paragraph, the code block's last line), not after the markdown's last block,
 * where it would sit on a line of its own. A formula is one piece: the caret follows it.
 */
export function rehypeCaret() {
  return (tree: Root) => {
    let parent: Root | Element = tree;
    for (;;) {
      const children: Array<RootContent | ElementContent> = parent.children;
      let index = children.length - 1;
      while (index >= 0 && (isBlank(children[index]!) || children[index]!.type === "comment")) index--;
      const last = index >= 0 ? children[index] : undefined;
      if (last?.type === "element" && !voidElements.has(last.tagName) && !isFormula(last)) {
        parent = last;
        continue;
      }
      if (last?.type === "text") {
        // Code ends in a newline: the caret goes before it, on the last line, not below.
        const text = last as Text;
        const trailing = /\s*$/.exec(text.value)?.[0] ?? "";
        const before: Text = { type: "text", value: text.value.slice(0, text.value.length - trailing.length) };
        const after: Text[] = trailing ? [{ type: "text", value: trailing }] : [];
        (parent.children as ElementContent[]).splice(index, 1, before, caret(), ...after);
        return;
      }
      (parent.children as ElementContent[]).splice(index + 1, 0, caret());
      return;
    }
  };
}
