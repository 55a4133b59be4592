import { useCallback, useEffect, useState } from "react";
import { ChatPane } from "./components/ChatPane.js";
import { Sidebar } from "./components/Sidebar.js";
import { useConversationRoute } from "./lib/hashRoute.js";
import { trpc } from "./trpc.js";

const modelKey = "streamchat.model";

function useStoredModel(): [string | null, (model: string) => void] {
  const [model, setModel] = useState<string | null>(() => {
    try {
      return localStorage.getItem(modelKey);
    } catch {
      return null;
    }
  });
  const choose = useCallback((next: string) => {
    setModel(next);
    try {
      localStorage.setItem(modelKey, next);
    } catch {
      // storage disabled: the choice lasts for this page
    }
  }, []);
  return [model, choose];
}

export function App() {
  const [conversationId, navigate] = useConversationRoute();
  const [model, setModel] = useStoredModel();
  const [sidebarOpen, setSidebarOpen] = useState(false);
  const utils = trpc.useUtils();
  const models = trpc.models.list.useQuery(undefined, { staleTime: 60_000 });
  const health = trpc.health.useQuery(undefined, { staleTime: 30_000 });
  const demo = models.data?.demo ?? health.data?.demo ?? false;
  const unauthorized = models.error?.data?.code === "UNAUTHORIZED";

  // A model the server does not list (stale choice from another server) falls back to its default.
  const modelForSend = model && models.data?.models.some((m) => m.name === model) ? model : null;

  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.key === "Escape") setSidebarOpen(false);
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, []);

  const open = (id: string | null) => {
    navigate(id);
    setSidebarOpen(false);
  };

  return (
    <div className="app">
      <Sidebar
        open={sidebarOpen}
        currentId={conversationId}
        model={model}
        onModelChange={setModel}
        onOpen={open}
        onNewChat={() => open(null)}
        onDeleted={(id) => {
          if (id === conversationId) open(null);
        }}
        onClose={() => setSidebarOpen(false)}
        onTokenChange={() => void utils.invalidate()}
        unauthorized={unauthorized}
      />
      <ChatPane
        key={conversationId ?? "new"}
        conversationId={conversationId}
        model={modelForSend}
        demo={demo}
        unauthorized={unauthorized}
        onOpenSettings={() => {
          setSidebarOpen(true);
          requestAnimationFrame(() => document.getElementById("api-token")?.focus());
        }}
        onCreated={(id) => navigate(id)}
        onNewChat={() => open(null)}
        onToggleSidebar={() => setSidebarOpen((o) => !o)}
      />
    </div>
  );
}
