import { errorCodeMessages } from "@streamchat/core/browser";
import { Fragment, useCallback, useEffect, useLayoutEffect, useRef, useState, type DragEvent } from "react";
import { newChatDraft } from "../chat/draftStore.js";
import { useNewChatInstructions } from "../chat/instructionsDraft.js";
import { useNewChatSampling } from "../chat/samplingDraft.js";
import { userItemKey, type ChatItemAnswer } from "../chat/items.js";
import { itemElementId, type OpenAt } from "../chat/openAt.js";
import { useConversationChat } from "../chat/useConversationChat.js";
import { focusedByKeyboard, focusWhenShown, popoverOpen, prefersReducedMotion } from "../lib/focus.js";
import { shortcuts, useShortcut } from "../lib/shortcuts.js";
import { trpc } from "../trpc.js";
import { AssistantMessage } from "./AssistantMessage.js";
import { BranchOrigin } from "./BranchOrigin.js";
import { Composer, type ComposerHandle, type ModelSetting, type ThinkSetting } from "./Composer.js";
import { headerConnection } from "../chat/connectionState.js";
import { ConnectionStatus } from "./ConnectionStatus.js";
import { EmptyState } from "./EmptyState.js";
import { Icon } from "./Icon.js";
import { DemoBadge } from "./ModelPicker.js";
import { UserMessage } from "./UserMessage.js";
import { ArchivedNote } from "./ArchivedNote.js";
import { ChatInstructionsChip, ChatInstructionsDialog, NewChatInstructionsButton } from "./ChatInstructions.js";
import { ChatSamplingChip, ChatSamplingDialog, NewChatSamplingButton } from "./ChatSampling.js";
import { ConversationMenu } from "./ConversationMenu.js";
import { useDialogOpener } from "./SettingsDialog.js";
import { VersionNav, type PendingSwitch } from "./VersionNav.js";
import { ContextMeter } from "../capabilities/ContextMeter.js";
import { attachmentViews, pickedFiles } from "../capabilities/attachments.js";
import { maxContextTokensOf } from "../capabilities/context-fit.js";
import { fileLimitsOf } from "../capabilities/text-files.js";
import { useAttachmentDrafts } from "../capabilities/useAttachmentDrafts.js";

export interface ChatPaneProps {
  conversationId: string | null;
  /** The model to send with (null: the server's default). */
  model: string | null;
  modelSetting: ModelSetting;
  think: ThinkSetting;
  /** The chosen model takes images: the composer takes them as well as text files. */
  vision?: boolean;
  demo: boolean;
  unauthorized: boolean;
  /**
   * When the server last accepted the page's sign-in check (React Query's dataUpdatedAt of models.list; 0: never). A
   * newer one than when a message was refused for want of sign-in means signing in works now.
   */
  signedInAt?: number;
  onOpenSettings: () => void;
  onCreated: (conversationId: string) => void;
  /** Open another conversation (a branch this pane made; a branch's original, at the answer it was made at). */
  onOpenConversation?: (conversationId: string, at?: OpenAt) => void;
  onNewChat: () => void;
  onToggleSidebar: () => void;
  /** Whether the drawer (narrow layout) is open: the toggle says so to screen readers. */
  sidebarOpen?: boolean;
  /** Opened from a search hit: show this message (on its branch) instead of the end of the conversation. */
  openAt?: OpenAt | null;
  /** The conversation feed cannot reach the server (useConversationFeed): why, or null. */
  feedUnreachable?: string | null;
}

/** The start of a message, to name it in a line of text. */
function excerpt(text: string, chars = 60): string {
  const line = text.replace(/\s+/g, " ").trim();
  return line.length > chars ? `${line.slice(0, chars - 1).trimEnd()}…` : line;
}

/** The conversation's title as the sidebar list has it: a rename or a generated title shows as soon as the list refetches. */
function useListedTitle(conversationId: string | null): string | undefined {
  const listed = trpc.conversations.list.useQuery(undefined, {
    enabled: conversationId !== null,
    select: (list) => list.find((c) => c.id === conversationId)?.title,
  });
  return listed.data;
}

export function ChatPane(props: ChatPaneProps) {
  const { conversationId, model, modelSetting, think, vision = false, demo, unauthorized, signedInAt = 0, onOpenSettings, onCreated, onOpenConversation, onNewChat, onToggleSidebar, sidebarOpen = false, openAt, feedUnreachable = null } = props;
  // The same query (and cache) as App's: the server's file limits, once it has answered.
  const health = trpc.health.useQuery(undefined, { staleTime: 30_000 });
  const utils = trpc.useUtils();
  const branchMutation = trpc.conversations.branch.useMutation();
  const tray = useAttachmentDrafts({ vision, fileLimits: fileLimitsOf(health.data), draftKey: conversationId ?? newChatDraft });
  // What a message may take of the model's window beside this user's instructions and tools: asked only once files
  // are attached or the typed text comes near the window (the composer's note on a message too long for the model).
  const [nearWindow, setNearWindow] = useState(false);
  // A new chat's instructions and sampling, set before its first message (which takes them along): kept on this device
  // until then.
  const [newChatInstructions, setNewChatInstructions] = useNewChatInstructions();
  const [newChatSampling, setNewChatSampling] = useNewChatSampling();
  // The open chat's own instructions count too: a conversation's (the server reads them), a new chat's (sent along).
  const roomChat = conversationId !== null ? { conversationId } : newChatInstructions !== "" ? { instructions: newChatInstructions } : {};
  const roomInput =
    modelSetting.value === null && Object.keys(roomChat).length === 0
      ? undefined
      : { ...(modelSetting.value === null ? {} : { model: modelSetting.value }), ...roomChat };
  const room = trpc.models.room.useQuery(roomInput, {
    enabled: tray.files.length > 0 || nearWindow,
    staleTime: 30_000,
  });
  /** The names of the images of the message sent last, for the tray if it comes back unsent (files carry their own). */
  const sentNames = useRef(new Map<string, string>());
  const composer = useRef<ComposerHandle>(null);
  const chat = useConversationChat({
    conversationId,
    model,
    think: think.available && think.on ? (think.value ?? true) : false,
    onCreated,
    openAt,
    onDraftReturned: (text, attachments) => {
      composer.current?.restore(text);
      tray.restore(attachments, (a) => sentNames.current.get(a.data) ?? "image");
    },
    onDraftSent: (text, attachments) => {
      composer.current?.clearIf(text);
      tray.drop(attachments);
    },
  });
  // Shown with the messages it stands between, not over a conversation still loading.
  const branchLine = chat.items.length > 0 ? chat.branchedFrom : null;
  // The user's own model settings, what the Model settings dialog's empty fields give: asked with the pane, so that
  // the dialog opens ready instead of with its fields disabled for a round trip. Once a page (the cached answer does);
  // the dialog asks again at each opening, and the feed's settings-changed refreshes them. Only an answer is kept: a
  // refusal (no token yet) would be every settings panel's error, in alerts nobody asked for.
  useEffect(() => {
    if (utils.settings.get.getData() !== undefined) return;
    utils.client.settings.get.query().then(
      (settings) => {
        if (utils.settings.get.getData() === undefined) utils.settings.get.setData(undefined, settings);
      },
      () => undefined,
    );
  }, [utils]);
  // Signed in since a message was refused for want of a token: "Sign-in is required" is no longer true, and the message
  // is back in the box to send again. Known by the sign-in check passing after the refusal showed, whether or not this
  // page saw that check refused (it had passed before the token went stale; the token was saved in another tab).
  const { actionError, dismissError } = chat;
  const refusedWhenSignedInAt = useRef<number | null>(null);
  useEffect(() => {
    if (actionError?.code !== "unauthorized") refusedWhenSignedInAt.current = null;
    else if (refusedWhenSignedInAt.current === null) refusedWhenSignedInAt.current = signedInAt;
    else if (signedInAt !== refusedWhenSignedInAt.current) dismissError();
  }, [signedInAt, actionError, dismissError]);
  const scroller = useRef<HTMLDivElement>(null);
  const stickToBottom = useRef(true);
  const [atBottom, setAtBottom] = useState(true);
  const title = useListedTitle(conversationId) ?? chat.title;
  // The chat's instructions and model settings dialogs, while open: what opened one (the menu's button, the header's
  // marker) takes the focus back; the menu's button when that marker went (its setting cleared).
  const header = useRef<HTMLElement>(null);
  const menuButton = () => header.current?.querySelector<HTMLElement>(".conversation-menu__button");
  const instructionsDialog = useDialogOpener(menuButton, conversationId);
  const samplingDialog = useDialogOpener(menuButton, conversationId);

  /** The scroller's height when last seen: a scroll event that comes with a new height is the box resizing, not the reader. */
  const seenHeight = useRef(0);
  /** Where the reader was when last seen: a scroll that went up is the reader leaving the end, however small. */
  const seenTop = useRef(0);
  /**
   * "Scroll to the latest message" is gliding there (no reduced-motion preference): until it arrives, following does not
   * jump (that would cut the glide short) and the glide's own scroll events are not the reader scrolling up.
   */
  const gliding = useRef(false);
  /** Where the glide was sent: the end grows while an answer streams, and the glide is sent on to the new end. */
  const glideTarget = useRef(0);
  /** Following the stream is a jump to the end at every render: an animation per token would lag behind and never rest. */
  const keepAtEnd = (el: HTMLElement) => {
    if (!gliding.current) el.scrollTop = el.scrollHeight;
    else if (el.scrollHeight !== glideTarget.current) glide(el);
  };
  const glide = (el: HTMLElement) => {
    glideTarget.current = el.scrollHeight;
    el.scrollTo({ top: el.scrollHeight, behavior: "smooth" });
  };
  /** The glide is over (scrollend, or arrived at the end): a following reader is put exactly at the end, which may have grown. */
  const glideEnded = () => {
    const el = scroller.current;
    if (!gliding.current || !el) return;
    gliding.current = false;
    if (stickToBottom.current) el.scrollTop = el.scrollHeight;
  };
  const resizes = useRef<ResizeObserver | null>(null);
  /** What the scroller shows (the messages, the empty state): watched for size, since it can change without a render. */
  const watchedContent = useRef<Element | null>(null);
  const watchContent = (content: Element | null) => {
    if (content === watchedContent.current || !resizes.current) return;
    if (watchedContent.current) resizes.current.unobserve(watchedContent.current);
    if (content) resizes.current.observe(content);
    watchedContent.current = content;
  };
  // Follow the stream while the reader is at the bottom; leave them alone once they scrolled up.
  useLayoutEffect(() => {
    const el = scroller.current;
    if (!el) return;
    if (stickToBottom.current) keepAtEnd(el);
    seenHeight.current = el.clientHeight;
    watchContent(el.firstElementChild);
  });
  // The composer grows with a paste, a phone's keyboard opens: the view gets shorter without the reader scrolling, and
  // one who was following keeps following. The content can grow after a render too (the browser restyles a paragraph
  // that stopped being the last one a frame later, an image decodes): a following reader is kept at the end then too.
  useEffect(() => {
    const el = scroller.current;
    if (!el || typeof ResizeObserver === "undefined") return;
    const observer = new ResizeObserver(() => {
      seenHeight.current = el.clientHeight;
      if (stickToBottom.current) keepAtEnd(el);
    });
    resizes.current = observer;
    observer.observe(el);
    watchContent(el.firstElementChild);
    // Not every engine says when a smooth scroll is over (scrollend): arriving at the end, seen in onScroll, says it too.
    el.addEventListener("scrollend", glideEnded);
    return () => {
      observer.disconnect();
      resizes.current = null;
      watchedContent.current = null;
      el.removeEventListener("scrollend", glideEnded);
    };
  }, []);
  const onScroll = () => {
    const el = scroller.current;
    if (!el) return;
    // The browser scrolls when the box shrinks, before any ResizeObserver hears of it: that scroll is no reason to stop following.
    if (el.clientHeight !== seenHeight.current) {
      seenHeight.current = el.clientHeight;
      if (stickToBottom.current) {
        keepAtEnd(el);
        seenTop.current = el.scrollTop;
        return;
      }
    }
    const gap = el.scrollHeight - el.scrollTop - el.clientHeight;
    const wentUp = el.scrollTop < seenTop.current - 1;
    seenTop.current = el.scrollTop;
    if (gliding.current) {
      if (gap < 1) glideEnded();
      return;
    }
    // Near the end counts as there (a reader scrolling down need not hit the last pixel), but a move up is the reader leaving,
    // however small: a trackpad scrolls a few pixels at a time, and following would pull each step back to the end while
    // tokens arrive, so the reader could never get away. Only the reader scrolls up here (following, gliding and the browser
    // keeping the end in place when the content shrinks leave no gap).
    stickToBottom.current = gap < 80 && !(wentUp && gap >= 2);
    if (stickToBottom.current !== atBottom) setAtBottom(stickToBottom.current);
  };
  /**
   * The reader scrolls (wheel, touch, the scrollbar, a key) while the glide is under way: the browser stops the glide,
   * and their scrolling counts again (scrolling up stops following, as ever).
   */
  const readerTookOver = () => {
    gliding.current = false;
  };
  const scrollToBottom = () => {
    const el = scroller.current;
    if (!el) return;
    stickToBottom.current = true;
    setAtBottom(true);
    // The button leaves once pressed: from the keyboard, the focus goes on to the composer instead of falling to <body>.
    keepKeyboardFocus();
    if (prefersReducedMotion()) {
      el.scrollTo({ top: el.scrollHeight, behavior: "instant" });
      return;
    }
    gliding.current = true;
    glide(el);
  };
  /**
   * Whoever sends (or queues) a message wants to see it and its answer, wherever they had scrolled to; so does whoever
   * edits one, asks for another answer, or retries.
   */
  const follow = () => {
    stickToBottom.current = true;
    setAtBottom(true);
  };
  /**
   * Regenerate, Retry, Remove and the error bar's buttons leave once pressed (an answer runs, the message or the bar is
   * gone): the composer is where a keyboard user goes on from (Escape stops from there).
   */
  const keepKeyboardFocus = () => {
    if (focusedByKeyboard()) composer.current?.focus();
  };

  // A message opened from the search shows where it is, not the end of the conversation.
  const revealed = chat.revealed;
  useEffect(() => {
    if (!revealed) return;
    const el = document.getElementById(itemElementId(revealed.key));
    if (!el) return;
    stickToBottom.current = false;
    gliding.current = false;
    el.scrollIntoView({ block: "start" });
  }, [revealed]);

  useEffect(() => {
    document.title = title ? `${title} · streamchat` : "streamchat";
  }, [title]);

  /**
   * A streaming answer is not read out token by token (its text is no live part of the transcript): once it ends, a
   * screen reader hears the whole of it, once. Stopped and failed answers say so themselves (a note, an alert).
   */
  const streamedRuns = useRef(new Set<string>());
  /** What the region says, and how many answers it said: each answer is a new node, so the same words are news again. */
  const [finishedAnswer, setFinishedAnswer] = useState({ text: "", count: 0 });
  useEffect(() => {
    for (const item of chat.items) {
      const runId = item.kind === "answer" ? item.state.runId : null;
      if (item.kind !== "answer" || runId === null) continue;
      if (item.streaming) {
        streamedRuns.current.add(runId);
        continue;
      }
      if (!streamedRuns.current.delete(runId)) continue;
      const reason = item.state.done?.reason;
      if (item.state.error || item.disconnected || reason === "cancelled" || reason === "error" || reason === "interrupted") continue;
      // The rendered text, as it reads (markdown's marks are no words).
      const text = document.getElementById(itemElementId(item.key))?.querySelector(".markdown")?.textContent?.trim();
      if (!text) continue;
      // The same words again (a regenerated answer may be) would change nothing in the region and not be heard: each
      // answer goes in as a node of its own (keyed by the count), an addition a screen reader reads. (Emptying the
      // region for a frame first did not always work: React may render both updates together, changing nothing.)
      setFinishedAnswer((said) => ({ text, count: said.count + 1 }));
    }
  }, [chat.items]);

  const stop = chat.stop;
  useShortcut(
    shortcuts.stop,
    useCallback(
      (e: KeyboardEvent) => {
        if (!chat.canStop || chat.stopping) return false;
        // Escape elsewhere (the sidebar, a dialog, a menu, an open popover, the edit box) means "close that", not "stop".
        const target = e.target instanceof HTMLElement ? e.target : null;
        if (target?.closest("#sidebar, dialog, [popover], [role=listbox]") || popoverOpen()) return false;
        if (target && /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName) && target.id !== "composer-input") return false;
        stop();
        return true;
      },
      [chat.canStop, chat.stopping, stop],
    ),
  );
  useShortcut(
    shortcuts.focusComposer,
    useCallback(() => {
      composer.current?.focus();
      return true;
    }, []),
  );

  /** Every stored answer offers Regenerate (a new version of it) while nothing is answering. */
  const regenerateFor = (item: ChatItemAnswer) =>
    !chat.busy && conversationId !== null && item.questionId !== null
      ? () => {
          follow();
          keepKeyboardFocus();
          chat.regenerate(item.questionId!);
        }
      : undefined;
  /** A stored answer's "Branch in new chat": the copy up to it opens, listed at the top of the sidebar. */
  const branchFor = (item: ChatItemAnswer) => {
    const messageId = item.branchFromId;
    if (conversationId === null || messageId === null || onOpenConversation === undefined) return undefined;
    return async () => {
      const byKeyboard = focusedByKeyboard();
      try {
        const branched = await branchMutation.mutateAsync({ conversationId, messageId });
        await utils.conversations.list.invalidate();
        onOpenConversation(branched.conversationId);
        // The button goes with this pane: from the keyboard, the new chat's message box is where to go on (not after a
        // tap: a phone's keyboard would open for nothing).
        if (byKeyboard) focusWhenShown(() => document.getElementById("composer-input"));
        return true;
      } catch {
        return false;
      }
    };
  };
  /**
   * The ‹ or › pressed to show another version of a question: that version is another message, its item replaces the
   * one that had the focus, and the same button of the new item takes it (from the keyboard, the next press goes on).
   */
  const refocusVersion = useRef<{ itemId: string; label: string } | null>(null);
  /** The version a ‹ or › press asked for, until the nav that shows it announces it: this pane's, no other's. */
  const pendingSwitch: PendingSwitch = useRef(null);
  const versionNav = (versions: ChatItemAnswer["versions"], of: string) =>
    versions && (
      <VersionNav
        versions={versions}
        of={of}
        pending={pendingSwitch}
        disabled={chat.busy || chat.switching}
        onSwitch={(messageId) => {
          const label = document.activeElement?.closest(".versions") ? document.activeElement.getAttribute("aria-label") : null;
          refocusVersion.current = of === "message" && label ? { itemId: itemElementId(userItemKey(messageId)), label } : null;
          chat.switchVersion(messageId);
        }}
      />
    );
  useEffect(() => {
    const wanted = refocusVersion.current;
    if (!wanted) return;
    const button = [...(document.getElementById(wanted.itemId)?.querySelectorAll<HTMLElement>(".versions button") ?? [])].find(
      (b) => b.getAttribute("aria-label") === wanted.label,
    );
    if (!button) return;
    refocusVersion.current = null;
    // Only when the focus was lost with the old item: the user may have gone elsewhere meanwhile.
    if (document.activeElement === document.body || document.activeElement === null) button.focus();
  }, [chat.items]);

  const empty = chat.items.length === 0 && chat.queue.length === 0 && !chat.loading;

  // Files dropped anywhere on the pane (the transcript, the header) go to the composer's tray, as on the composer itself:
  // the browser would otherwise open the file in place of the app. `dragging` counts enters less leaves, which fire for
  // every child crossed; while it is above 0 the pane shows where the files go.
  const [dragging, setDragging] = useState(0);
  const carriesFiles = (e: DragEvent) => Array.from(e.dataTransfer.types).includes("Files");
  const dropTarget = {
    onDragEnter: (e: DragEvent) => {
      if (carriesFiles(e)) setDragging((n) => n + 1);
    },
    onDragLeave: (e: DragEvent) => {
      if (carriesFiles(e)) setDragging((n) => Math.max(0, n - 1));
    },
    onDragOver: (e: DragEvent) => {
      if (carriesFiles(e)) e.preventDefault();
    },
    onDrop: (e: DragEvent) => {
      setDragging(0);
      // Dropped on the composer: its own handler took the files already.
      if (e.defaultPrevented) return;
      const files = pickedFiles(e.dataTransfer);
      if (files.length === 0) return;
      e.preventDefault();
      tray.add(files);
    },
  };

  return (
    <main className="chat" aria-label="Chat" data-dropping={dragging > 0 || undefined} {...dropTarget}>
      <header className="chat__header" ref={header}>
        <button
          type="button"
          className="icon-button sidebar-toggle"
          onClick={onToggleSidebar}
          aria-label="Show conversations"
          aria-controls="sidebar"
          aria-expanded={sidebarOpen}
        >
          <Icon name="menu" />
        </button>
        <h1 className="chat__title" title={title ?? undefined}>
          {conversationId ? (title ?? "") : "New chat"}
        </h1>
        {conversationId ? (
          !chat.notFound && (
            <>
              <ChatInstructionsChip conversationId={conversationId} onOpen={instructionsDialog.open} />
              <ChatSamplingChip conversationId={conversationId} onOpen={samplingDialog.open} />
            </>
          )
        ) : (
          <>
            <NewChatInstructionsButton text={newChatInstructions} onOpen={instructionsDialog.open} />
            <NewChatSamplingButton sampling={newChatSampling} onOpen={samplingDialog.open} />
          </>
        )}
        <ConnectionStatus {...headerConnection({ state: chat.connection, error: chat.connectionError }, feedUnreachable)} />
        {conversationId && !chat.notFound && (
          <ConversationMenu
            conversationId={conversationId}
            archivedAt={chat.archivedAt}
            onInstructions={instructionsDialog.open}
            onSampling={samplingDialog.open}
          />
        )}
        {demo && <DemoBadge />}
        <button
          type="button"
          className="icon-button header-new-chat"
          onClick={onNewChat}
          aria-label="New chat"
          title={`New chat (${shortcuts.newChat.label})`}
        >
          <Icon name="newChat" />
        </button>
      </header>
      {instructionsDialog.opener && (
        <ChatInstructionsDialog
          key={conversationId ?? newChatDraft}
          source={
            conversationId
              ? { kind: "conversation", conversationId }
              : { kind: "draft", value: newChatInstructions, onSave: setNewChatInstructions }
          }
          onClose={instructionsDialog.close}
        />
      )}
      {samplingDialog.opener && (
        <ChatSamplingDialog
          key={conversationId ?? newChatDraft}
          source={conversationId ? { kind: "conversation", conversationId } : { kind: "draft", value: newChatSampling, onSave: setNewChatSampling }}
          model={model}
          onClose={samplingDialog.close}
        />
      )}

      {unauthorized && (
        <div className="banner" role="alert" data-testid="auth-banner">
          <span>{errorCodeMessages.unauthorized} Enter the server's API token to continue.</span>
          <button type="button" className="button button--small" onClick={onOpenSettings}>
            Enter token
          </button>
        </div>
      )}

      <div
        className="chat__scroll"
        ref={scroller}
        onScroll={onScroll}
        onWheel={readerTookOver}
        onTouchStart={readerTookOver}
        onPointerDown={readerTookOver}
        onKeyDown={readerTookOver}
      >
        {chat.notFound ? (
          <div className="empty">
            <h2>Conversation not found</h2>
            <p className="muted">It may have been deleted.</p>
            <button type="button" className="button button--primary" onClick={onNewChat}>
              Start a new chat
            </button>
          </div>
        ) : empty ? (
          <EmptyState
            demo={demo}
            canThink={think.available}
            onPick={(s) => {
              follow();
              chat.submit(s.prompt, s.think && think.available ? { think: true } : undefined);
            }}
          />
        ) : chat.loading && chat.items.length === 0 && chat.queue.length === 0 ? (
          // Not the live log yet: a conversation arriving into it would be read out whole by a screen reader. The log
          // (another element: the key) starts with the conversation in it, and reads only what is added afterwards.
          <div className="messages" key="loading">
            <p className="muted pad">Loading conversation…</p>
          </div>
        ) : (
          <div className="messages" key="log" role="log" aria-live="polite" aria-relevant="additions text" data-testid="messages">
            {chat.loading && <p className="muted pad">Loading conversation…</p>}
            {branchLine?.afterItem === null && <BranchOrigin from={branchLine} onOpen={onOpenConversation} />}
            {chat.items.map((item) => (
              <Fragment key={item.renderKey ?? item.key}>
                {item.kind === "user" ? (
                  <UserMessage
                    id={itemElementId(item.key)}
                    text={item.text}
                    attachments={item.attachments}
                    pending={item.pending}
                    onEdit={
                      item.messageId !== null && !chat.busy
                        ? (text) => {
                            follow();
                            // The editor and its Edit button leave while the new answer runs: the composer is where to go on.
                            composer.current?.focus();
                            chat.edit(item.messageId!, text);
                          }
                        : undefined
                    }
                    reopenWith={item.messageId !== null && chat.failedEdit?.messageId === item.messageId ? chat.failedEdit.text : undefined}
                    onReopened={chat.editReopened}
                    versionNav={versionNav(item.versions, "message")}
                  />
                ) : (
                  <AssistantMessage
                    id={itemElementId(item.key)}
                    state={item.state}
                    streaming={item.streaming}
                    disconnected={item.disconnected ?? false}
                    onRetry={
                      // A continue that failed is retried by Continue (offered beside the failure), not by a new answer.
                      item.last && !chat.busy && conversationId !== null && !chat.continued(item.state.runId)
                        ? () => {
                            follow();
                            keepKeyboardFocus();
                            chat.regenerate(item.questionId ?? undefined);
                          }
                        : undefined
                    }
                    onRegenerate={regenerateFor(item)}
                    onContinue={
                      item.last && !chat.busy && conversationId !== null && item.questionId !== null
                        ? () => {
                            follow();
                            keepKeyboardFocus();
                            chat.continueAnswer();
                          }
                        : undefined
                    }
                    onBranch={branchFor(item)}
                    versionNav={versionNav(item.versions, "answer")}
                  />
                )}
                {branchLine && branchLine.afterItem === item.key && <BranchOrigin from={branchLine} onOpen={onOpenConversation} />}
              </Fragment>
            ))}
            {chat.queueHeld && chat.queue.length > 0 && (
              <div className="queue-held" data-testid="queue-held">
                <Icon name="alert" size={16} />
                <p className="queue-held__text">
                  {chat.queue.length === 1 ? "The queued message waits" : `The ${chat.queue.length} queued messages wait`} for “
                  {excerpt(chat.queueHeld.text)}”, which was not sent. Send it again from the message box, or send the queue
                  without it.
                </p>
                <button
                  type="button"
                  className="button button--small"
                  onClick={() => {
                    keepKeyboardFocus();
                    chat.releaseQueue();
                  }}
                >
                  Send queue without it
                </button>
              </div>
            )}
            {chat.queue.map((q) => (
              <UserMessage key={q.id} text={q.text} attachments={q.attachments && attachmentViews(q.attachments)} queued onUnqueue={() => {
                  keepKeyboardFocus();
                  chat.unqueue(q.id);
                }} />
            ))}
          </div>
        )}
      </div>

      <div className="visually-hidden" role="status" data-testid="answer-announcement">
        <span key={finishedAnswer.count}>{finishedAnswer.text}</span>
      </div>

      <div className="chat__bottom">
        {!atBottom && !empty && (
          <button type="button" className="scroll-down" onClick={scrollToBottom} aria-label="Scroll to the latest message">
            <Icon name="arrowDown" size={18} />
          </button>
        )}
        {chat.actionError && (
          <div className="action-error" role="alert" data-testid="action-error">
            <Icon name="alert" size={18} />
            <div className="action-error__text">
              <strong>{chat.actionError.action}:</strong> {chat.actionError.title}
              {chat.actionError.detail && <span className="error-box__detail">{chat.actionError.detail}</span>}
            </div>
            <div className="action-error__buttons">
              {chat.actionError.retry && (
                <button
                  type="button"
                  className="button button--small"
                  onClick={() => {
                    follow(); // a message sent again, an answer asked for again, or followed again
                    keepKeyboardFocus();
                    chat.actionError?.retry?.();
                  }}
                >
                  Retry
                </button>
              )}
              <button
                type="button"
                className="icon-button icon-button--small"
                onClick={() => {
                  keepKeyboardFocus();
                  chat.dismissError();
                }}
                aria-label="Dismiss error"
              >
                <Icon name="close" size={16} />
              </button>
            </div>
          </div>
        )}

        {conversationId && chat.archivedAt !== null && <ArchivedNote conversationId={conversationId} />}
        <ContextMeter context={chat.context} />
        <Composer
          ref={composer}
          busy={chat.busy}
          canStop={chat.canStop}
          onSubmit={(text) => {
            follow();
            // The composer sends nothing while images are attached for a model that cannot see them (it says why), so
            // whatever the tray holds goes.
            const { images, files } = tray.take();
            if (images.length) sentNames.current = new Map(images.map((d) => [d.attachment.data, d.name]));
            const sent = [...images.map((d) => d.attachment), ...files.map((d) => d.attachment)];
            chat.submit(text, sent.length ? { attachments: sent } : undefined);
          }}
          attachments={tray}
          vision={vision}
          maxContextTokens={maxContextTokensOf(health.data)}
          draftKey={conversationId ?? newChatDraft}
          onStop={chat.stop}
          stopping={chat.stopping}
          think={think}
          model={room.data?.room === undefined ? modelSetting : { ...modelSetting, room: room.data.room }}
          onNearWindow={setNearWindow}
        />
      </div>
    </main>
  );
}
