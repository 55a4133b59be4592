import { Icon, type IconName } from "./Icon.js";
import "./versions.css";

/**
 * Beside the chat's title: a quiet marker for one of the chat's own settings (its instructions, its model settings),
 * named by what is set, which opens its dialog. With nothing set (`detail` ""), a new chat's header offers the setting
 * with it, unobtrusively (no outline until pointed at). One button either way, so the focus comes back to it after a
 * save that changed which.
 */
export function ChatMarker({
  setting,
  name,
  detail,
  label,
  icon,
  offer,
  onOpen,
}: {
  /** Its class and test id's stem: `${setting}-chip` when something is set, `${setting}-button` when not. */
  setting: "chat-instructions" | "chat-sampling";
  /** What it sets ("Chat instructions"), its accessible name alone when nothing is set. */
  name: string;
  /** What is set, in words (after the name in its accessible name and tooltip); "" when nothing is. */
  detail: string;
  /** The words beside the icon (hidden on a phone, where the name says them). */
  label: string;
  icon: IconName;
  /** Its tooltip when nothing is set. */
  offer: string;
  onOpen: (opener: HTMLElement) => void;
}) {
  const none = detail === "";
  const named = none ? name : `${name}: ${detail}`;
  return (
    <button
      type="button"
      className={`chip chat-marker ${setting}-chip${none ? " chat-marker--none" : ""}`}
      aria-label={named}
      title={none ? offer : named}
      aria-haspopup="dialog"
      data-testid={none ? `${setting}-button` : `${setting}-chip`}
      onClick={(e) => onOpen(e.currentTarget)}
    >
      <Icon name={icon} size={14} />
      <span className="chat-marker__label">{label}</span>
    </button>
  );
}
