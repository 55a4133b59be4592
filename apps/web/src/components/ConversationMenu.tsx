import { useId, useLayoutEffect, useRef, useState, type KeyboardEvent } from "react";
import { useSetArchived } from "../chat/useSetArchived.js";
import { describeError } from "../lib/errors.js";
import { downloadText } from "../lib/download.js";
import { trpc, type RouterInputs } from "../trpc.js";
import { Icon } from "./Icon.js";
import "./versions.css";

type ExportFormat = NonNullable<RouterInputs["conversations"]["export"]["format"]>;

const formats: Array<{ format: ExportFormat; label: string }> = [
  { format: "json", label: "Export as JSON" },
  { format: "markdown", label: "Export as Markdown" },
];

/**
 * The conversation's menu in the chat header: its own instructions and its model settings (dialogs the pane shows:
 * `onInstructions`, `onSampling`, told the menu's button to give the focus back to), export as a JSON file (every
 * version, what import reads) or as Markdown (the conversation as shown), and archive it (out of the list, kept whole)
 * or bring it back. A menu button with a native popover (light dismiss, Escape, top layer); arrow keys move between
 * its items.
 */
export function ConversationMenu({
  conversationId,
  archivedAt,
  onInstructions,
  onSampling,
}: {
  conversationId: string;
  archivedAt: number | null;
  onInstructions: (opener: HTMLElement) => void;
  onSampling: (opener: HTMLElement) => void;
}) {
  const id = useId();
  const button = useRef<HTMLButtonElement>(null);
  const panel = useRef<HTMLDivElement>(null);
  const [open, setOpen] = useState(false);
  const [status, setStatus] = useState<{ kind: "working" | "error"; text: string } | null>(null);
  const utils = trpc.useUtils();
  const archive = useSetArchived();

  useLayoutEffect(() => {
    const el = panel.current;
    if (!el) return;
    const onToggle = (event: Event) => {
      const opening = (event as ToggleEvent).newState === "open";
      if (opening && button.current) {
        // Below the button, its right edge on the button's (the header's right side).
        const anchor = button.current.getBoundingClientRect();
        el.style.top = `${anchor.bottom + 6}px`;
        el.style.right = `${Math.max(8, window.innerWidth - anchor.right)}px`;
      }
      setOpen(opening);
    };
    // The first item takes the focus once the menu shows: `toggle` comes after the popover opened. (React renders the
    // state set in `beforetoggle` before that, when the item cannot take the focus yet, and the button kept it.)
    const onOpened = (event: Event) => {
      if ((event as ToggleEvent).newState === "open") el.querySelector<HTMLElement>('[role="menuitem"]')?.focus();
    };
    el.addEventListener("beforetoggle", onToggle);
    el.addEventListener("toggle", onOpened);
    return () => {
      el.removeEventListener("beforetoggle", onToggle);
      el.removeEventListener("toggle", onOpened);
    };
  }, []);

  const exportAs = async (format: ExportFormat) => {
    panel.current?.hidePopover();
    button.current?.focus();
    setStatus({ kind: "working", text: "Preparing the export…" });
    try {
      // Fetched when asked (never cached): the file is the conversation as it is now.
      const file = await utils.client.conversations.export.query({ conversationId, format });
      downloadText(file.filename, file.mimeType, file.content);
      setStatus(null);
    } catch (error) {
      setStatus({ kind: "error", text: `Export failed: ${describeError(error).title}` });
    }
  };

  const setArchived = (archived: boolean) => {
    panel.current?.hidePopover();
    button.current?.focus();
    setStatus(null);
    archive.mutate(
      { conversationId, archived },
      { onError: (error) => setStatus({ kind: "error", text: `${archived ? "Archive" : "Unarchive"} failed: ${describeError(error).title}` }) },
    );
  };

  const openDialog = (open: (opener: HTMLElement) => void) => {
    panel.current?.hidePopover();
    setStatus(null);
    if (button.current) {
      button.current.focus();
      open(button.current);
    }
  };

  const onKeyDown = (e: KeyboardEvent<HTMLDivElement>) => {
    const items = [...(panel.current?.querySelectorAll<HTMLElement>('[role="menuitem"]') ?? [])];
    const at = items.indexOf(document.activeElement as HTMLElement);
    const move = { ArrowDown: 1, ArrowUp: -1 }[e.key];
    if (move !== undefined) {
      e.preventDefault();
      items[(at + move + items.length) % items.length]?.focus();
    } else if (e.key === "Home" || e.key === "End") {
      e.preventDefault();
      items[e.key === "Home" ? 0 : items.length - 1]?.focus();
    } else if (e.key === "Escape") {
      e.stopPropagation(); // closes this menu only (the popover does it), not the answer or the drawer
      button.current?.focus();
    }
  };

  return (
    <>
      <button
        ref={button}
        type="button"
        className="icon-button conversation-menu__button"
        aria-label="Conversation options"
        title="Conversation options"
        aria-haspopup="menu"
        aria-expanded={open}
        popoverTarget={id}
      >
        <Icon name="more" />
      </button>
      <div ref={panel} id={id} popover="auto" className="popover conversation-menu" role="menu" aria-label="Conversation options" onKeyDown={onKeyDown}>
        <button type="button" role="menuitem" className="conversation-menu__item" aria-haspopup="dialog" onClick={() => openDialog(onInstructions)}>
          <Icon name="instructions" size={16} />
          Chat instructions…
        </button>
        <button type="button" role="menuitem" className="conversation-menu__item" aria-haspopup="dialog" onClick={() => openDialog(onSampling)}>
          <Icon name="sampling" size={16} />
          Model settings…
        </button>
        {formats.map(({ format, label }) => (
          <button key={format} type="button" role="menuitem" className="conversation-menu__item" onClick={() => void exportAs(format)}>
            <Icon name="download" size={16} />
            {label}
          </button>
        ))}
        <button type="button" role="menuitem" className="conversation-menu__item" onClick={() => setArchived(archivedAt === null)}>
          <Icon name={archivedAt === null ? "archive" : "unarchive"} size={16} />
          {archivedAt === null ? "Archive" : "Unarchive"}
        </button>
      </div>
      {status && (
        <span className={`conversation-menu__status${status.kind === "error" ? " is-error" : ""}`} role={status.kind === "error" ? "alert" : "status"}>
          {status.text}
        </span>
      )}
    </>
  );
}
