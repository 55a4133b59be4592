import { useLayoutEffect, useRef, useState, type KeyboardEvent, type RefObject } from "react";
import type { OpenAt } from "../chat/openAt.js";
import { readToken, writeToken } from "../lib/authToken.js";
import { isComposing, shortcuts } from "../lib/shortcuts.js";
import { useFocusTrap } from "../lib/useFocusTrap.js";
import { AppearancePanel } from "./AppearancePanel.js";
import { ConversationList } from "./ConversationList.js";
import { Icon } from "./Icon.js";
import { DataPanel } from "./DataPanel.js";
import { ImportButton, useConversationImport, useFileDrop } from "./ImportConversation.js";
import { InstructionsPanel } from "./InstructionsPanel.js";
import { SamplingPanel } from "./SamplingPanel.js";
import { ToolsPanel } from "./ToolsPanel.js";

export interface SidebarProps {
  open: boolean;
  currentId: string | null;
  /** `at`: opened from a search hit in one of its messages (ChatPane shows that message's branch). */
  onOpen: (conversationId: string, at?: OpenAt) => void;
  onNewChat: () => void;
  onDeleted: (conversationId: string) => void;
  onClose: () => void;
  onTokenChange: () => void;
  /** The server wants a token this page does not have (AUTH_TOKENS is set). */
  unauthorized: boolean;
  /** When the server last refused this page (ms): a token saved before then was not accepted. */
  unauthorizedAt?: number;
  searchRef: RefObject<HTMLInputElement | null>;
}

export function Sidebar(props: SidebarProps) {
  const { open, currentId, onOpen, onNewChat, onDeleted, onClose, onTokenChange, unauthorized, unauthorizedAt, searchRef } = props;
  const nav = useRef<HTMLElement>(null);
  const [query, setQuery] = useState("");
  // Only the narrow layout's drawer is modal (it covers the chat); the wide sidebar is part of the page.
  useFocusTrap(nav, open, drawerQuery, () => document.querySelector<HTMLElement>(".sidebar-toggle"));
  const importer = useConversationImport((id) => onOpen(id));
  const drop = useFileDrop(importer.importFile);
  return (
    <>
      <div className={`sidebar-backdrop${open ? " is-open" : ""}`} onClick={onClose} aria-hidden="true" />
      <nav
        ref={nav}
        className={`sidebar${open ? " is-open" : ""}${drop.dragging ? " is-drop-target" : ""}`}
        aria-label="Conversations and settings"
        id="sidebar"
        {...(open && isDrawer() ? { role: "dialog", "aria-modal": true } : {})}
        {...drop.props}
        onKeyDown={closePanelOnEscape}
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
        <button
          type="button"
          className="sidebar__new"
          onClick={onNewChat}
          aria-label="New chat"
          aria-keyshortcuts={shortcuts.newChat.aria}
          title={`New chat (${shortcuts.newChat.label})`}
        >
          <Icon name="newChat" size={17} />
          <span>New chat</span>
          <kbd className="sidebar__kbd" aria-hidden="true">
            {shortcuts.newChat.label}
          </kbd>
        </button>
        <ImportButton importer={importer} dragging={drop.dragging} />
        <div className="sidebar__search" role="search">
          <Icon name="search" size={15} />
          <input
            ref={searchRef}
            type="search"
            aria-label="Search conversations"
            placeholder="Search"
            value={query}
            onChange={(e) => setQuery(e.target.value)}
            onKeyDown={(e) => {
              // An IME's Escape drops its candidates only: the query stays, and so does the drawer.
              if (e.key === "Escape" && query && !isComposing(e.nativeEvent)) {
                e.preventDefault(); // clears the search first; the next Escape closes the drawer
                e.stopPropagation();
                setQuery("");
              }
            }}
            aria-keyshortcuts={shortcuts.search.aria}
          />
          <kbd className="sidebar__kbd" aria-hidden="true">
            {shortcuts.search.label}
          </kbd>
        </div>
        <div className="sidebar__list">
          <ConversationList currentId={currentId} query={query} onOpen={onOpen} onDeleted={onDeleted} />
        </div>
        <div className="sidebar__bottom">
          <details className="sidebar__details">
            <summary>Keyboard shortcuts</summary>
            <dl className="shortcut-list">
              {Object.values(shortcuts).map((s) => (
                <div key={s.aria}>
                  <dt>{s.description}</dt>
                  <dd>
                    <kbd>{s.label}</kbd>
                  </dd>
                </div>
              ))}
            </dl>
          </details>
          <AppearancePanel />
          <InstructionsPanel />
          <SamplingPanel />
          <ToolsPanel />
          <DataPanel onOpen={(id) => onOpen(id)} />
          <TokenSetting onChange={onTokenChange} required={unauthorized} refusedAt={unauthorizedAt ?? 0} />
        </div>
      </nav>
    </>
  );
}

/**
 * Escape inside an open panel of the sidebar (Keyboard shortcuts, Appearance, Instructions, Model settings, Tools, API token: each a <details>) folds that panel
 * and gives the focus to its summary, the control that opened it. Only the next Escape closes the drawer (App hears a
 * prevented Escape as taken); a panel's own Escape (the search box, a rename, the delete dialog) stops before here.
 */
function closePanelOnEscape(e: KeyboardEvent<HTMLElement>): void {
  if (e.key !== "Escape" || e.defaultPrevented || e.shiftKey || e.ctrlKey || e.metaKey || e.altKey || isComposing(e.nativeEvent)) return;
  const panel = e.target instanceof Element ? e.target.closest("details[open]") : null;
  if (!(panel instanceof HTMLDetailsElement) || !e.currentTarget.contains(panel)) return;
  e.preventDefault();
  e.stopPropagation();
  panel.open = false;
  panel.querySelector<HTMLElement>(":scope > summary")?.focus();
}

/** Matches styles.css: below this width the sidebar is a drawer over the chat. */
export const drawerQuery = "(max-width: 760px)";
export const isDrawer = () => typeof window !== "undefined" && window.matchMedia(drawerQuery).matches;

/**
 * Only needed when the server runs with AUTH_TOKENS; kept in localStorage. A token the server refuses says so: "Saved"
 * and "requires a token" again would leave the user believing the token they typed is in use.
 */
function TokenSetting({ onChange, required, refusedAt }: { onChange: () => void; required: boolean; refusedAt: number }) {
  const [value, setValue] = useState(() => readToken() ?? "");
  const [saved, setSaved] = useState(false);
  // Whether a token is stored, and when it was saved: refusals from before then were about another token.
  const [token, setToken] = useState(() => ({ stored: readToken() !== null, savedAt: 0 }));
  const verdict = !required ? null : !token.stored ? "missing" : refusedAt >= token.savedAt ? "refused" : "checking";
  const panel = useRef<HTMLDetailsElement>(null);
  const wasRequired = useRef(required);
  // The setting folds away once the server accepts the token; the keyboard's focus was in it (the box, or Save) and
  // would fall to <body> (out of the phone's drawer too). Its summary is where it goes on, as after Escape.
  useLayoutEffect(() => {
    const folded = wasRequired.current && !required;
    wasRequired.current = required;
    const focus = document.activeElement;
    if (folded && panel.current && focus instanceof HTMLElement && panel.current.contains(focus) && !panel.current.open) {
      panel.current.querySelector<HTMLElement>(":scope > summary")?.focus();
    }
  }, [required]);
  return (
    <details ref={panel} className="sidebar__details token-setting" open={required || undefined}>
      <summary>API token</summary>
      {verdict === "missing" && (
        <p className="token-setting__required" role="alert">
          This server requires an API token.
        </p>
      )}
      {verdict === "refused" && (
        <p className="token-setting__required" role="alert">
          The server did not accept this token. Check it and save it again.
        </p>
      )}
      {verdict === "checking" && (
        <p className="token-setting__checking muted small" role="status">
          Checking the token…
        </p>
      )}
      <form
        onSubmit={(e) => {
          e.preventDefault();
          const next = value.trim() || null;
          writeToken(next);
          setToken({ stored: next !== null, savedAt: Date.now() });
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
          placeholder="Paste the API token"
          onChange={(e) => {
            setValue(e.target.value);
            setSaved(false);
          }}
        />
        <button type="submit" className="button button--small">
          {saved && verdict === null ? "Saved" : "Save"}
        </button>
      </form>
    </details>
  );
}
