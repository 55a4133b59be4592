/**
 * The sidebar's sections for recent activity, newest first, as the peers name them. Older conversations go by month:
 * "March" in this year, "March 2025" before it (the list reaches them page by page).
 */
export const recentGroupLabels = ["Today", "Yesterday", "Previous 7 days", "Previous 30 days"] as const;

const monthNames = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"];

function startOfDay(at: number): number {
  const d = new Date(at);
  d.setHours(0, 0, 0, 0);
  return d.getTime();
}

/** A section's name, and its place among the sections (lower first). */
function dateSectionOf(at: number, now: number): { label: string; rank: number } {
  const today = startOfDay(now);
  if (at >= today) return { label: "Today", rank: 0 };
  // Calendar days back; setDate handles days of 23 or 25 hours at DST changes.
  const d = new Date(today);
  d.setDate(d.getDate() - 1);
  if (at >= d.getTime()) return { label: "Yesterday", rank: 1 };
  d.setDate(d.getDate() - 6);
  if (at >= d.getTime()) return { label: "Previous 7 days", rank: 2 };
  d.setDate(d.getDate() - 23);
  if (at >= d.getTime()) return { label: "Previous 30 days", rank: 3 };
  const when = new Date(at);
  const current = new Date(now);
  const monthsBack = (current.getFullYear() - when.getFullYear()) * 12 + (current.getMonth() - when.getMonth());
  const month = monthNames[when.getMonth()]!;
  return { label: when.getFullYear() === current.getFullYear() ? month : `${month} ${when.getFullYear()}`, rank: recentGroupLabels.length + monthsBack };
}

/**
 * Which section a time falls in, by local calendar days (not 24-hour windows): 23:59 yesterday is "Yesterday"; 2 to 7
 * days back "Previous 7 days", up to 30 "Previous 30 days", then the month.
 */
export function dateGroupOf(at: number, now: number): string {
  return dateSectionOf(at, now).label;
}

/** Groups items (already in display order) into the non-empty sections, newest section first. */
export function groupByDate<T>(items: readonly T[], timeOf: (item: T) => number, now: number): Array<{ label: string; items: T[] }> {
  const groups = new Map<string, { label: string; rank: number; items: T[] }>();
  for (const item of items) {
    const section = dateSectionOf(timeOf(item), now);
    const group = groups.get(section.label) ?? groups.set(section.label, { ...section, items: [] }).get(section.label)!;
    group.items.push(item);
  }
  return [...groups.values()].sort((a, b) => a.rank - b.rank).map(({ label, items }) => ({ label, items }));
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
