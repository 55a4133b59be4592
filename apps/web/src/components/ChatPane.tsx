import { errorCodeMessages } from "@streamchat/core";
import { useEffect, useLayoutEffect, useRef } from "react";
import { useConversationChat } from "../chat/useConversationChat.js";
import { AssistantMessage } from "./AssistantMessage.js";
import { Composer, type ThinkSetting } from "./Composer.js";
import { ConnectionBadge } from "./ConnectionBadge.js";
import { Icon } from "./Icon.js";
import { DemoBadge } from "./ModelPicker.js";
import { UserMessage } from "./UserMessage.js";

export interface ChatPaneProps {
  conversationId: string | null;
  model: string | null;
  think: ThinkSetting;
  demo: boolean;
  unauthorized: boolean;
  onOpenSettings: () => void;
  onCreated: (conversationId: string) => void;
  onNewChat: () => void;
  onToggleSidebar: () => void;
}

const suggestions = [
  "What time is it in Tokyo?",
  "What is 12*7?",
  "Explain server-sent events in a short list",
  "Write a long answer about streaming",
];

export function ChatPane(props: ChatPaneProps) {
  const { conversationId, model, think, demo, unauthorized, onOpenSettings, onCreated, onNewChat, onToggleSidebar } = props;
  const chat = useConversationChat({ conversationId, model, think: think.available && think.on, onCreated });
  const scroller = useRef<HTMLDivElement>(null);
  const stickToBottom = useRef(true);

  // Follow the stream while the reader is at the bottom; leave them alone once they scrolled up.
  useLayoutEffect(() => {
    const el = scroller.current;
    if (el && stickToBottom.current) el.scrollTop = el.scrollHeight;
  });
  const onScroll = () => {
    const el = scroller.current;
    if (el) stickToBottom.current = el.scrollHeight - el.scrollTop - el.clientHeight < 80;
  };

  useEffect(() => {
    document.title = chat.title ? `${chat.title} · streamchat` : "streamchat";
  }, [chat.title]);

  const empty = chat.items.length === 0 && chat.queue.length === 0 && !chat.loading;

  return (
    <main className="chat" aria-label="Chat">
      <header className="chat__header">
        <button type="button" className="icon-button sidebar-toggle" onClick={onToggleSidebar} aria-label="Show conversations">
          <Icon name="menu" />
        </button>
        <h1 className="chat__title">{conversationId ? (chat.title ?? "…") : "New chat"}</h1>
        {demo && <DemoBadge />}
        <ConnectionBadge state={chat.connection} error={chat.connectionError} />
      </header>

      {unauthorized && (
        <div className="banner" role="alert" data-testid="auth-banner">
          <span>{errorCodeMessages.unauthorized} Enter the server's API token to continue.</span>
          <button type="button" className="button button--small" onClick={onOpenSettings}>
            Enter token
          </button>
        </div>
      )}

      <div className="chat__scroll" ref={scroller} onScroll={onScroll}>
        {chat.notFound ? (
          <div className="empty">
            <h2>Conversation not found</h2>
            <p className="muted">It may have been deleted.</p>
            <button type="button" className="button button--primary" onClick={onNewChat}>
              Start a new chat
            </button>
          </div>
        ) : empty ? (
          <div className="empty">
            <h2>How can I help?</h2>
            <p className="muted">Answers stream in as they are written. Try one of these:</p>
            <div className="suggestions">
              {suggestions.map((s) => (
                <button key={s} type="button" className="suggestion" onClick={() => chat.submit(s)}>
                  {s}
                </button>
              ))}
            </div>
          </div>
        ) : (
          <div className="messages" role="log" aria-live="polite" aria-relevant="additions text" data-testid="messages">
            {chat.loading && <p className="muted pad">Loading conversation…</p>}
            {chat.items.map((item) =>
              item.kind === "user" ? (
                <UserMessage
                  key={item.key}
                  text={item.text}
                  pending={item.pending}
                  failed={item.failed}
                  onEdit={item.messageId !== null && !chat.busy ? (text) => chat.edit(item.messageId!, text) : undefined}
                />
              ) : (
                <AssistantMessage
                  key={item.key}
                  state={item.state}
                  streaming={item.streaming}
                  disconnected={item.disconnected ?? false}
                  actionsEnabled={item.last && !chat.busy && conversationId !== null}
                  onRetry={chat.regenerate}
                  onRegenerate={chat.regenerate}
                />
              ),
            )}
            {chat.queue.map((q) => (
              <UserMessage key={q.id} text={q.text} queued onUnqueue={() => chat.unqueue(q.id)} />
            ))}
          </div>
        )}
      </div>

      {chat.actionError && (
        <div className="action-error" role="alert" data-testid="action-error">
          <div>
            <strong>{chat.actionError.action}:</strong> {chat.actionError.title}
            {chat.actionError.detail && <span className="error-box__detail">{chat.actionError.detail}</span>}
          </div>
          <div className="action-error__buttons">
            {chat.actionError.retry && (
              <button type="button" className="button button--small" onClick={chat.actionError.retry}>
                Retry
              </button>
            )}
            <button type="button" className="icon-button" onClick={chat.dismissError} aria-label="Dismiss error">
              <Icon name="close" size={16} />
            </button>
          </div>
        </div>
      )}

      <Composer
        busy={chat.busy}
        canStop={chat.canStop}
        onSubmit={chat.submit}
        onStop={chat.stop}
        stopping={chat.stopping}
        think={think}
      />
    </main>
  );
}
