import type { MessageVersions } from "../chat/history.js";
import { Icon } from "./Icon.js";
import "./versions.css";

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
}: {
  versions: MessageVersions;
  /** What the versions are of, for screen readers: "answer" or "message". */
  of: string;
  disabled: boolean;
  onSwitch: (messageId: number) => void;
}) {
  const { index, count, siblingIds } = versions;
  const go = (to: number) => {
    const id = siblingIds[to - 1];
    if (id !== undefined && !disabled) onSwitch(id);
  };
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
    </div>
  );
}
