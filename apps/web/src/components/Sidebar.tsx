import { useRef, useState } from "react";
import { useFocusTrap } from "../lib/useFocusTrap.js";
import { readToken, writeToken } from "../lib/authToken.js";
import { ConversationList } from "./ConversationList.js";
import { Icon } from "./Icon.js";
import { ModelPicker } from "./ModelPicker.js";

export interface SidebarProps {
  open: boolean;
  currentId: string | null;
  model: string | null;
  onModelChange: (model: string) => void;
  onOpen: (conversationId: string) => void;
  onNewChat: () => void;
  onDeleted: (conversationId: string) => void;
  onClose: () => void;
  onTokenChange: () => void;
  /** The server wants a token this page does not have (AUTH_TOKENS is set). */
  unauthorized: boolean;
}

export function Sidebar(props: SidebarProps) {
  const { open, currentId, model, onModelChange, onOpen, onNewChat, onDeleted, onClose, onTokenChange, unauthorized } = props;
  const nav = useRef<HTMLElement>(null);
  // Only the narrow layout's drawer is modal (it covers the chat); the wide sidebar is part of the page.
  useFocusTrap(nav, open, drawerQuery, () => document.querySelector<HTMLElement>(".sidebar-toggle"));
  return (
    <>
      <div className={`sidebar-backdrop${open ? " is-open" : ""}`} onClick={onClose} aria-hidden="true" />
      <nav
        ref={nav}
        className={`sidebar${open ? " is-open" : ""}`}
        aria-label="Conversations and settings"
        id="sidebar"
        {...(open && isDrawer() ? { role: "dialog", "aria-modal": true } : {})}
      >
        <div className="sidebar__top">
          <span className="brand">
            <span className="brand__mark" aria-hidden="true" />
            streamchat
          </span>
          <button type="button" className="icon-button sidebar__close" onClick={onClose} aria-label="Close conversations">
            <Icon name="close" />
          </button>
        </div>
        <button type="button" className="button button--primary new-chat" onClick={onNewChat}>
          <Icon name="plus" size={16} /> New chat
        </button>
        <div className="sidebar__list">
          <ConversationList currentId={currentId} onOpen={onOpen} onDeleted={onDeleted} />
        </div>
        <div className="sidebar__bottom">
          <ModelPicker value={model} onChange={onModelChange} />
          <TokenSetting onChange={onTokenChange} required={unauthorized} />
        </div>
      </nav>
    </>
  );
}

/** Matches styles.css: below this width the sidebar is a drawer over the chat. */
const drawerQuery = "(max-width: 760px)";
const isDrawer = () => typeof window !== "undefined" && window.matchMedia(drawerQuery).matches;

/** Only needed when the server runs with AUTH_TOKENS; kept in localStorage. */
function TokenSetting({ onChange, required }: { onChange: () => void; required: boolean }) {
  const [value, setValue] = useState(() => readToken() ?? "");
  const [saved, setSaved] = useState(false);
  return (
    <details className="token-setting" open={required || undefined}>
      <summary>API token</summary>
      {required && (
        <p className="token-setting__required" role="alert">
          This server requires an API token.
        </p>
      )}
      <form
        onSubmit={(e) => {
          e.preventDefault();
          writeToken(value.trim() || null);
          setSaved(true);
          onChange();
        }}
      >
        <label htmlFor="api-token" className="visually-hidden">
          API token
        </label>
        <input
          id="api-token"
          type="password"
          autoComplete="off"
          value={value}
          placeholder="only if the server requires one"
          onChange={(e) => {
            setValue(e.target.value);
            setSaved(false);
          }}
        />
        <button type="submit" className="button button--small">
          {saved ? "Saved" : "Save"}
        </button>
      </form>
    </details>
  );
}
