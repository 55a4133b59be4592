/** A fenced code block's opening fence: its character and how many of them (CommonMark). */
export interface Fence {
  char: "`" | "~";
  length: number;
}

const fenceLine = /^[ \t]*(`{3,}|~{3,})(.*)$/;

/**
 * The fence a line opens, or null. Any indentation counts (a fence in a list item is indented). A backtick fence
 * whose info string holds a backtick is no fence (CommonMark): "```a`b```" is inline code.
 */
export function fenceOpenedBy(line: string): Fence | null {
  const match = fenceLine.exec(line);
  if (!match) return null;
  const marker = match[1]!;
  if (marker[0] === "`" && match[2]!.includes("`")) return null;
  return { char: marker[0] as Fence["char"], length: marker.length };
}

/** Whether a line closes `fence`: the same character, at least as many, nothing after but spaces. */
export function closesFence(line: string, fence: Fence): boolean {
  const match = fenceLine.exec(line);
  return match !== null && match[1]![0] === fence.char && match[1]!.length >= fence.length && match[2]!.trim() === "";
}
