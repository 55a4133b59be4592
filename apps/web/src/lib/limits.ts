/**
 * The longest message the server accepts: its MAX_MESSAGE_CHARS default. The API does not tell clients the
 * limit it runs with (neither `health` nor `models.list` carry it), so the page assumes the default; a server
 * configured lower still answers `bad_request` ("at most N characters"), which the page shows, keeping the draft.
 */
export const maxMessageChars = 32_000;

/** The counter appears from this share of the limit on, so short messages stay uncluttered. */
const counterShare = 0.8;

export interface LengthCheck {
  count: number;
  limit: number;
  /** Close enough to the limit to show the counter. */
  near: boolean;
  over: boolean;
}

/** Counts what the server counts: the trimmed text in UTF-16 code units (`string.length`). */
export function checkLength(text: string, limit = maxMessageChars): LengthCheck {
  const count = text.trim().length;
  return { count, limit, near: count >= Math.floor(limit * counterShare), over: count > limit };
}

const numberFormat = new Intl.NumberFormat("en-US");
export const formatCount = (n: number) => numberFormat.format(n);

export function tooLongMessage({ count, limit }: Pick<LengthCheck, "count" | "limit">): string {
  return `This message is too long: ${formatCount(count)} characters, at most ${formatCount(limit)}. Shorten it to send.`;
}
