/** Sidebar sections, newest first, as the peers name them. */
export const dateGroupLabels = ["Today", "Yesterday", "Previous 7 days", "Older"] as const;
export type DateGroupLabel = (typeof dateGroupLabels)[number];

function startOfDay(at: number): number {
  const d = new Date(at);
  d.setHours(0, 0, 0, 0);
  return d.getTime();
}

/** Which section a time falls in, by local calendar days (not 24-hour windows): 23:59 yesterday is "Yesterday". */
export function dateGroupOf(at: number, now: number): DateGroupLabel {
  const today = startOfDay(now);
  if (at >= today) return "Today";
  // One calendar day back; setDate handles days of 23 or 25 hours at DST changes.
  const d = new Date(today);
  d.setDate(d.getDate() - 1);
  if (at >= d.getTime()) return "Yesterday";
  d.setDate(d.getDate() - 6);
  if (at >= d.getTime()) return "Previous 7 days";
  return "Older";
}

/** Groups items (already in display order) into the non-empty sections, in section order. */
export function groupByDate<T>(items: readonly T[], timeOf: (item: T) => number, now: number): Array<{ label: DateGroupLabel; items: T[] }> {
  const groups = new Map<DateGroupLabel, T[]>(dateGroupLabels.map((label) => [label, []]));
  for (const item of items) groups.get(dateGroupOf(timeOf(item), now))!.push(item);
  return dateGroupLabels.flatMap((label) => {
    const members = groups.get(label)!;
    return members.length > 0 ? [{ label, items: members }] : [];
  });
}

/** The sidebar's section of pinned conversations, above the date sections. */
export const pinnedGroupLabel = "Pinned";

/**
 * A conversation list in the sidebar's sections: the pinned ones first, most recently pinned first (ties: newest
 * activity), then the others by newest activity in date sections. The order is the server's too (conversations.list);
 * it is made again here because the page reorders its cached list at once when a chat is pinned, renamed or answered.
 */
export function listGroups<T extends { updatedAt: number; pinnedAt: number | null }>(items: readonly T[], now: number): Array<{ label: string; items: T[] }> {
  const pinned = items.filter(isPinned).sort((a, b) => b.pinnedAt! - a.pinnedAt! || b.updatedAt - a.updatedAt);
  const rest = items.filter((c) => !isPinned(c)).sort((a, b) => b.updatedAt - a.updatedAt);
  const dated = groupByDate(rest, (c) => c.updatedAt, now);
  return pinned.length > 0 ? [{ label: pinnedGroupLabel, items: pinned }, ...dated] : dated;
}

/** Pinned: a time. A server from before pinning sends no `pinnedAt` at all, and nothing of its list is pinned. */
export function isPinned(conversation: { pinnedAt?: number | null }): boolean {
  return typeof conversation.pinnedAt === "number";
}
