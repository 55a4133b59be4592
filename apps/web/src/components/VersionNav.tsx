import { useEffect, useState, type RefObject } from "react";
import type { MessageVersions } from "../chat/history.js";
import { Icon } from "./Icon.js";
import "./versions.css";

/**
 * The version a ‹ or › press asked for, until a VersionNav shows it. Not state of the nav that was pressed: a question's
 * other version is another message, so another item, and its nav is a new component (an answer's stays the same one).
 * Held by the pane (one per conversation shown, `useRef`), not the module: a switch pressed in one pane, and never shown
 * there (refused, or the pane left first), must not be announced by another pane showing that message later.
 */
export type PendingSwitch = RefObject<{ of: string; messageId: number } | null>;

/**
 * ‹ 2 / 3 › under an edited question or a regenerated answer: the other versions of it, oldest first. Switching
 * asks the server to move the conversation's path (conversations.switchBranch); `disabled` while that cannot happen
 * now (an answer is streaming, a switch is on its way).
 */
export function VersionNav({
  versions,
  of,
  disabled,
  onSwitch,
  pending,
}: {
  versions: MessageVersions;
  /** What the versions are of, for screen readers: "answer" or "message". */
  of: string;
  disabled: boolean;
  onSwitch: (messageId: number) => void;
  /** The switch pressed in this pane and not shown yet, shared by its navs (see PendingSwitch). */
  pending: PendingSwitch;
}) {
  const { index, count, siblingIds } = versions;
  const shown = siblingIds[index - 1];
  const go = (to: number) => {
    const id = siblingIds[to - 1];
    if (id === undefined || disabled) return;
    pending.current = { of, messageId: id };
    onSwitch(id);
  };
  // The switch the user made is said once the version shows, politely; never on first sight or after a regenerate (no
  // press asked for it), and not the switched text itself. Each saying is a node of its own (keyed by `n`): the same
  // words again ("Version 1 of 2" after 2 and back) are an addition a screen reader reads, as ChatPane's announcement.
  const [said, setSaid] = useState({ text: "", messageId: -1, count: 0, n: 0 });
  useEffect(() => {
    const asked = pending.current;
    if (shown === undefined || asked?.of !== of || asked.messageId !== shown) return;
    pending.current = null;
    setSaid((before) => ({ text: `Version ${index} of ${count}`, messageId: shown, count, n: before.n + 1 }));
  }, [of, shown, index, count, pending]);
  // Once another version shows (a regenerate) or another was added elsewhere, the words are stale: gone, unread.
  const announcement = said.messageId === shown && said.count === count ? said.text : "";
  // aria-disabled, not disabled: a button that becomes disabled drops the keyboard focus (to the page), and both do
  // while a switch is on its way, or the one that led to the last version.
  const canGoBack = !disabled && index > 1;
  const canGoOn = !disabled && index < count;
  return (
    <div className="versions" role="group" aria-label={`Versions of this ${of}`} data-testid="versions">
      <button
        type="button"
        className="icon-button icon-button--small"
        aria-label={`Previous version of this ${of}`}
        title="Previous version"
        aria-disabled={!canGoBack}
        onClick={() => canGoBack && go(index - 1)}
      >
        <Icon name="chevronLeft" size={16} />
      </button>
      {/* Some screen readers ignore aria-label on a plain span (they read "2 / 3"): they get words of their own. */}
      <span className="versions__count" data-testid="version-count">
        <span aria-hidden="true">
          {index} / {count}
        </span>
        <span className="visually-hidden">{`Version ${index} of ${count}`}</span>
      </span>
      <button
        type="button"
        className="icon-button icon-button--small"
        aria-label={`Next version of this ${of}`}
        title="Next version"
        aria-disabled={!canGoOn}
        onClick={() => canGoOn && go(index + 1)}
      >
        <Icon name="chevronRight" size={16} />
      </button>
      <span className="visually-hidden" role="status" aria-live="polite" data-testid="version-announcement">
        <span key={said.n}>{announcement}</span>
      </span>
    </div>
  );
}
