import { skipToken } from "@tanstack/react-query";
import { useCallback, useEffect, useRef, useState } from "react";
import { BackgroundQueues } from "./chat/BackgroundQueues.js";
import { draftStore } from "./chat/draftStore.js";
import { returnedDrafts, returnedEdits } from "./chat/queueStore.js";
import { useConversationFeed } from "./chat/useConversationFeed.js";
import { ChatPane } from "./components/ChatPane.js";
import { modelNote } from "./components/ModelPicker.js";
import { conversationModelOf, effectiveModel } from "./capabilities/conversation-model.js";
import { offersImages } from "./capabilities/offers-images.js";
import { storedThink, thinkToStore } from "./capabilities/think-setting.js";
import { isDrawer, Sidebar } from "./components/Sidebar.js";
import type { OpenAt } from "./chat/openAt.js";
import { useConversationRoute } from "./lib/hashRoute.js";
import { focusWhenShown } from "./lib/focus.js";
import { useSignInRefused, useTokenChangedElsewhere } from "./lib/signIn.js";
import { isComposing, shortcuts, useShortcut } from "./lib/shortcuts.js";
import { trpc } from "./trpc.js";

const modelKey = "streamchat.model";
const thinkKey = "streamchat.think";

/** A setting kept in localStorage (when the browser allows it; else for this page only). */
function useStoredSetting(key: string): [string | null, (value: string) => void] {
  const [value, setValue] = useState<string | null>(() => {
    try {
      return localStorage.getItem(key);
    } catch {
      return null;
    }
  });
  const choose = useCallback(
    (next: string) => {
      setValue(next);
      try {
        localStorage.setItem(key, next);
      } catch {
        // storage disabled: the choice lasts for this page
      }
    },
    [key],
  );
  return [value, choose];
}

export function App() {
  const [conversationId, navigate] = useConversationRoute();
  const [model, setModel] = useStoredSetting(modelKey);
  const [thinkSetting, setThinkSetting] = useStoredSetting(thinkKey);
  const [sidebarOpen, setSidebarOpen] = useState(false);
  const utils = trpc.useUtils();
  const models = trpc.models.list.useQuery(undefined, { staleTime: 60_000 });
  const health = trpc.health.useQuery(undefined, { staleTime: 30_000 });
  const demo = models.data?.demo ?? health.data?.demo ?? false;
  const unauthorized = useSignInRefused(models);

  // A conversation answers with the model it was answered by (the best chat apps keep it per chat), until another is
  // picked in it; a new chat starts with the one picked last anywhere. A model the server does not list (a stale choice,
  // a model removed since) gives way to the next, and finally to the server's default. The same query and cache as
  // the pane's: this observer never fetches on its own.
  const openDetail = trpc.conversations.get.useQuery(conversationId ? { conversationId } : skipToken, {
    staleTime: Number.POSITIVE_INFINITY,
    refetchOnMount: false,
    refetchOnWindowFocus: false,
    refetchOnReconnect: false,
  });
  const [pickedIn, setPickedIn] = useState<{ conversationId: string; model: string } | null>(null);
  const modelForSend = effectiveModel({
    picked: conversationId !== null && pickedIn?.conversationId === conversationId ? pickedIn.model : null,
    conversation: conversationModelOf(openDetail.data),
    global: model,
    listed: (name) => models.data?.models.some((m) => m.name === name) ?? false,
  });
  const pickModel = (name: string) => {
    setModel(name);
    setPickedIn(conversationId === null ? null : { conversationId, model: name });
  };
  // Think is offered only for a model that lists the thinking capability; a model without it would
  // answer model_unsupported. The wish is remembered across models and reloads.
  const selectedName = modelForSend ?? models.data?.defaultModel ?? null;
  const selectedInfo = models.data?.models.find((m) => m.name === selectedName);
  const thinkAvailable = selectedInfo?.capabilities.includes("thinking") ?? false;
  const thinkValue = storedThink(thinkSetting);
  const visionAvailable = offersImages(selectedInfo);
  const searchRef = useRef<HTMLInputElement>(null);

  useEffect(() => {
    if (!sidebarOpen) return;
    const onKey = (e: KeyboardEvent) => {
      // An IME's Escape (the search box, a rename) drops its candidates, not the drawer.
      if (e.key === "Escape" && !e.defaultPrevented && !isComposing(e)) setSidebarOpen(false);
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, [sidebarOpen]);

  // Numbers the new chats opened, each a pane of its own (see `created`).
  const [newPane, setNewPane] = useState(0);
  // Where the last conversation opened from the sidebar was opened: at a search hit, or as the server shows it (null).
  // Kept with its conversation: a later route change (back, another tab's link) must not apply it to another one.
  const [openedAt, setOpenedAt] = useState<{ conversationId: string; at: OpenAt } | null>(null);
  const openAt = openedAt && openedAt.conversationId === conversationId ? openedAt.at : null;
  const open = (id: string | null, at?: OpenAt) => {
    setOpenedAt(id && at ? { conversationId: id, at } : null);
    if (id !== conversationId) setNewPane((pane) => pane + 1);
    navigate(id);
    setSidebarOpen(false);
  };
  // Other tabs and devices: the list, the open conversation and its running answer stay current.
  // A deleted conversation (here or in another tab) takes its unsent draft with it, and what was given back to it.
  const deleted = (id: string) => {
    draftStore.forget(id);
    returnedDrafts.clear(id);
    returnedEdits.clear(id);
    if (id === conversationId) open(null);
  };
  const feed = useConversationFeed({ onDeleted: deleted });
  const tokenChanged = () => {
    void utils.invalidate();
    feed.restart();
  };
  // A token saved in another tab is this page's too (it reads it for every request): its sign-in check is asked again.
  useTokenChangedElsewhere(tokenChanged);

  // A new chat's pane stays mounted as its conversation's once its first message created it: what the user typed,
  // attached or scrolled meanwhile stays where it is. Any other change of conversation opens a fresh pane. A user who
  // went elsewhere while that message was on its way stays there (the list shows the new conversation).
  const [adopted, setAdopted] = useState<{ conversationId: string; key: string } | null>(null);
  const paneKey =
    conversationId !== null && adopted?.conversationId === conversationId ? adopted.key : (conversationId ?? `new-${newPane}`);
  const shownPane = useRef(paneKey);
  shownPane.current = paneKey;
  const created = (pane: string, id: string) => {
    if (pane !== shownPane.current) return;
    setAdopted({ conversationId: id, key: pane });
    setNewPane((next) => next + 1);
    navigate(id);
  };

  const newChat = () => {
    open(null);
    // The composer of the fresh pane takes focus (it mounts with autoFocus; this covers "already new").
    requestAnimationFrame(() => document.getElementById("composer-input")?.focus());
  };
  useShortcut(shortcuts.newChat, () => {
    newChat();
    return true;
  });
  useShortcut(shortcuts.search, () => {
    if (isDrawer()) setSidebarOpen(true);
    focusWhenShown(() => searchRef.current);
    return true;
  });

  return (
    <div className="app">
      <Sidebar
        open={sidebarOpen}
        currentId={conversationId}
        onOpen={(id, at) => open(id, at)}
        onNewChat={newChat}
        searchRef={searchRef}
        onDeleted={deleted}
        onClose={() => setSidebarOpen(false)}
        onTokenChange={tokenChanged}
        unauthorized={unauthorized}
        unauthorizedAt={unauthorized ? models.errorUpdatedAt : 0}
      />
      <BackgroundQueues currentId={conversationId} />
      <ChatPane
        key={paneKey}
        conversationId={conversationId}
        model={modelForSend}
        modelSetting={{
          value: modelForSend ?? model,
          onChange: pickModel,
          note: selectedName ? modelNote(selectedName, selectedInfo?.capabilities) : null,
          contextLength: selectedInfo?.contextLength,
        }}
        think={{
          available: thinkAvailable,
          on: thinkValue !== false,
          value: thinkValue,
          levels: selectedInfo?.thinkLevels,
          onChange: (value) => setThinkSetting(thinkToStore(value)),
        }}
        vision={visionAvailable}
        demo={demo}
        unauthorized={unauthorized}
        signedInAt={models.dataUpdatedAt}
        onOpenSettings={() => {
          setSidebarOpen(true);
          // On a phone the drawer slides in first: one frame later the field is still hidden and takes no focus.
          focusWhenShown(() => document.getElementById("api-token"));
        }}
        onCreated={(id) => created(paneKey, id)}
        onOpenConversation={(id, at) => open(id, at)}
        openAt={openAt}
        onNewChat={newChat}
        onToggleSidebar={() => setSidebarOpen((o) => !o)}
        sidebarOpen={sidebarOpen}
        feedUnreachable={feed.unreachable}
      />
    </div>
  );
}
