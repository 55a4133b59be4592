import { array, record, string, type Json } from "./json-values.js";

/**
 * ChatGPT's citations in an answer's text. ChatGPT draws a cited source as a link chip over a marker in the answer's
 * text; the marker alone means nothing to this app, so it goes. Where the export says which pages a marker stands for,
 * they stay as Markdown links in its place:
 * - newer exports: `metadata.content_references`, each naming its marker (`matched_text`, where `start_idx` says) and
 *   its pages (`items`, each with the sites that support it in `supporting_websites`; ChatGPT's own rendering of the
 *   first one in `alt`);
 * - older ones: `metadata.citations`, `{ start_ix, end_ix, metadata: { type: "webpage", title, url } }` over a
 *   "【12†source】" marker.
 */

/** A cited page as it will be linked. */
interface Link {
  label: string;
  url: string;
}

/** A marker in a message's text (UTF-16 offsets) and the pages it stands for. */
interface Cited {
  start: number;
  end: number;
  links: Link[];
}

/**
 * The text with each marker whose pages the export holds replaced by links to them, " ([Reuters](https://…))"; every
 * other marker goes as before (an entity's name stays). Text without such citations is exactly as `stripCitations`
 * leaves it.
 */
export function withCitations(text: string, metadata: Json | undefined): string {
  let result = "";
  let at = 0;
  for (const cited of citedSpans(text, metadata)) {
    // The spaces before a marker went with it; a link keeps one, unless it opens a line.
    const before = stripCitations(text.slice(at, cited.start)).replace(/[ \t]+$/, "");
    result += before;
    result += `${result === "" || result.endsWith("\n") ? "" : " "}(${cited.links.map(markdownLink).join(", ")})`;
    at = cited.end;
  }
  return result + stripCitations(text.slice(at));
}

/** The markers to link, in text order, none overlapping: a marker both shapes describe is linked once. */
function citedSpans(text: string, metadata: Json | undefined): Cited[] {
  const taken: Cited[] = [];
  for (const value of array(metadata?.content_references)) {
    const reference = record(value);
    const cited = reference && referenceSpan(text, reference, taken);
    if (cited) taken.push(cited);
  }
  for (const value of array(metadata?.citations)) {
    const citation = record(value);
    const cited = citation && legacySpan(text, citation, taken);
    if (cited) taken.push(cited);
  }
  return taken.sort((a, b) => a.start - b.start);
}

/**
 * A newer reference's marker and pages. Only web-page references link: "hidden" (a marker ChatGPT did not draw),
 * "sources_footnote" (a zero-width entry at the end whose list repeats the pages cited inline), entities, images and
 * the rest are treated as markers without data.
 */
function referenceSpan(text: string, reference: Json, taken: readonly Cited[]): Cited | undefined {
  const type = string(reference.type) ?? "";
  if (type !== "webpage" && type !== "webpage_extended" && !type.startsWith("grouped_webpages")) return undefined;
  const marker = string(reference.matched_text);
  // Only a marker is replaced: a reference over plain text or whitespace would eat words.
  if (marker === undefined || !isMarker(marker)) return undefined;
  const links = referenceLinks(reference);
  if (links.length === 0) return undefined;
  const start = markerStart(text, marker, reference.start_idx, taken);
  return start === undefined ? undefined : { start, end: start + marker.length, links };
}

/** An older citation's marker and page; file search's citations have no url, so their markers go as before. */
function legacySpan(text: string, citation: Json, taken: readonly Cited[]): Cited | undefined {
  const source = record(citation.metadata);
  const link = source && linkOf(source);
  if (!link) return undefined;
  const starts = offsets(text, citation.start_ix);
  const ends = offsets(text, citation.end_ix);
  for (const [i, start] of starts.entries()) {
    const end = ends[i];
    if (end !== undefined && isMarker(text.slice(start, end)) && isFree(start, end, taken)) return { start, end, links: [link] };
  }
  return undefined;
}

/** A whole citation marker: "\ue200cite\ue202turn0search0\ue201" or "【12†source】", but not an entity (its name stays). */
function isMarker(text: string): boolean {
  if (/^\ue200[^\ue200\ue201]*\ue201$/.test(text)) return !text.startsWith("\ue200entity\ue202");
  return /^【[^【】\n]*†[^【】\n]*】$/.test(text);
}

/**
 * Where a reference's marker is: at its index when the index points at it, else its first occurrence not yet linked
 * (an index into another part, or one counted differently, still finds it; the same marker repeated is found in turn).
 */
function markerStart(text: string, marker: string, index: unknown, taken: readonly Cited[]): number | undefined {
  const fits = (at: number) => text.startsWith(marker, at) && isFree(at, at + marker.length, taken);
  const indexed = offsets(text, index).find(fits);
  if (indexed !== undefined) return indexed;
  for (let at = text.indexOf(marker); at !== -1; at = text.indexOf(marker, at + 1)) if (fits(at)) return at;
  return undefined;
}

function isFree(start: number, end: number, taken: readonly Cited[]): boolean {
  return taken.every((other) => end <= other.start || other.end <= start);
}

/**
 * An export's index as UTF-16 offsets to try: as it is, and as a count of code points (ChatGPT's server counts in
 * Python, so after an emoji the two differ).
 */
function offsets(text: string, index: unknown): number[] {
  if (typeof index !== "number" || !Number.isSafeInteger(index) || index < 0) return [];
  let offset = 0;
  for (let points = 0; points < index && offset < text.length; points++) offset += (text.codePointAt(offset) ?? 0) > 0xffff ? 2 : 1;
  return offset === index ? [index] : [index, offset];
}

/**
 * A reference's pages: its own url (a "webpage" has one), then each item and the sites supporting it (ChatGPT's
 * "Reuters +2" chip). Only without any does ChatGPT's `alt` serve, read for its links and checked like the rest.
 */
function referenceLinks(reference: Json): Link[] {
  const sources = [reference, ...array(reference.items).flatMap((item) => [item, ...array(record(item)?.supporting_websites)])];
  const links = sources.flatMap((value) => {
    const source = record(value);
    const link = source && linkOf(source);
    return link ? [link] : [];
  });
  return unique(links.length > 0 ? links : altLinks(reference.alt));
}

/** "([Reuters](https://…))", as ChatGPT writes `alt`: its links, taken apart. */
function altLinks(alt: unknown): Link[] {
  const links: Link[] = [];
  for (const match of (string(alt) ?? "").matchAll(/\[((?:\\.|[^\\\]])*)\]\(([^()\s]+)\)/g)) {
    const link = linkOf({ title: (match[1] ?? "").replace(/\\(.)/g, "$1"), url: match[2] });
    if (link) links.push(link);
  }
  return links;
}

function unique(links: Link[]): Link[] {
  return links.filter((link, i) => links.findIndex((other) => other.url === link.url) === i);
}

/**
 * A page as a link, when its url is http(s): named by its site (`attribution`, what ChatGPT's chip shows), else its
 * title, else its host.
 */
function linkOf(source: Json): Link | undefined {
  const url = webUrl(source.url);
  if (!url) return undefined;
  const label = [source.attribution, source.title].map((value) => oneLine(string(value) ?? "")).find((text) => text !== "");
  return { label: label ?? url.hostname, url: url.href };
}

/** The url when it is http(s) (never `javascript:` and the like), without the tag ChatGPT adds to every link. */
function webUrl(value: unknown): URL | undefined {
  const url = parsedUrl(value);
  if (!url) return undefined;
  if (url.protocol !== "http:" && url.protocol !== "https:") return undefined;
  const query = url.search.slice(1).split("&").filter((pair) => pair !== "utm_source=chatgpt.com" && pair !== "");
  url.search = query.length === 0 ? "" : `?${query.join("&")}`;
  return url;
}

function parsedUrl(value: unknown): URL | undefined {
  if (typeof value !== "string") return undefined;
  // Not URL.canParse: the web app's readers run in browsers older than it.
  try {
    return new URL(value);
  } catch {
    return undefined;
  }
}

/** A title on one line, without markup characters. */
function oneLine(text: string): string {
  return text.replace(/[\ue200-\ue2ff]/g, "").replace(/\s+/g, " ").trim();
}

/**
 * The label escaped so it stays the link's text (brackets, and what binds tighter than them: code spans, HTML); the
 * url with what would end or escape `(…)` percent-encoded (the URL parser already encoded the rest).
 */
function markdownLink(link: Link): string {
  const label = link.label.replace(/[\\[\]`<>]/g, "\\$&");
  const url = link.url.replace(/[()\\<> ]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, "0")}`);
  return `[${label}](${url})`;
}

/** Browsing's old markers, "【12†source】" or file search's "【4:0†report.pdf】", with the space before them. */
const oldCitation = /[ \t]*【[^【】\n]*†[^【】\n]*】/g;
/**
 * The newer markup: "\ue200" kind "\ue202" data "\ue201", e.g. "\ue200cite\ue202turn0search0\ue201". ChatGPT draws
 * it as a link chip, except an entity, whose name it shows as text: `\ue200entity\ue202["city","Paris"]\ue201`.
 */
const markupSpan = /([ \t]*)\ue200([^\ue200\ue201]*)\ue201/g;
/** Markup characters left on their own (those that mark a cited passage, which stays as text). */
const strayMarkup = /[\ue200-\ue206]/g;

/** The text without citation markers: what is left where the export does not say what a marker cites. */
function stripCitations(text: string): string {
  return text
    .replace(oldCitation, "")
    .replace(markupSpan, (_span, space: string, body: string) => {
      const name = entityName(body);
      return name === undefined ? "" : `${space}${name}`;
    })
    .replace(strayMarkup, "");
}

function entityName(body: string): string | undefined {
  const [kind, data] = body.split("\ue202", 2);
  if (kind !== "entity" || data === undefined) return undefined;
  try {
    const value: unknown = JSON.parse(data);
    return Array.isArray(value) ? string(value[1]) : undefined;
  } catch {
    return undefined;
  }
}
