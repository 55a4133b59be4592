/**
 * What an import reads, told by the first character of its text: a JSON array (another app's export of many
 * conversations, which runs to hundreds of megabytes) stays in pieces, to be read one conversation at a time
 * (readForeignExportItems); anything else (this app's export, a JSON Lines file of several, one conversation) is read
 * whole, as the server's import limit bounds it. Shared by the CLI's and the web app's imports, which differ only in
 * where the bytes come from (a file's stream, a Blob's) and whether they come out of a ZIP archive first.
 */
export type ImportText = { kind: "array"; pieces: AsyncIterable<string> } | { kind: "text"; text: string };

/** UTF-8 text as the bytes go by; a character split between two chunks comes whole, in the later piece. */
export async function* utf8Pieces(chunks: AsyncIterable<Uint8Array>): AsyncGenerator<string, void, undefined> {
  const decoder = new TextDecoder();
  for await (const chunk of chunks) {
    const text = decoder.decode(chunk, { stream: true });
    if (text !== "") yield text;
  }
  const rest = decoder.decode();
  if (rest !== "") yield rest;
}

/**
 * The text of `pieces`, told by its first character that is not whitespace (a byte order mark, dropped by
 * TextDecoder, is not there): an array stays in pieces, read no further than that character; anything else is
 * read whole. Throws what reading the pieces throws.
 */
export async function importTextOf(pieces: AsyncIterable<string>): Promise<ImportText> {
  const text = pieces[Symbol.asyncIterator]();
  const start: string[] = [];
  while (!/\S/.test(start.at(-1) ?? "")) {
    const next = await text.next();
    if (next.done === true) break;
    start.push(next.value);
  }
  const all = afterTaken(start, text);
  if (/\S/.exec(start.at(-1) ?? "")?.[0] === "[") return { kind: "array", pieces: all };
  const parts: string[] = [];
  for await (const piece of all) parts.push(piece);
  return { kind: "text", text: parts.join("") };
}

/**
 * The items taken to look at, then the rest of `rest`; leaving it early closes `rest` (and so the file's stream under
 * it).
 */
export async function* afterTaken<T>(taken: T[], rest: AsyncIterator<T>): AsyncGenerator<T, void, undefined> {
  try {
    yield* taken.splice(0);
    for (let next = await rest.next(); next.done !== true; next = await rest.next()) yield next.value;
  } finally {
    await rest.return?.();
  }
}
