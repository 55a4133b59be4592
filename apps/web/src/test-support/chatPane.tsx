import { ChatPane } from "../components/ChatPane.js";

/**
 * The chat pane as App renders it, with no model chosen, thinking unavailable and every callback but `onCreated` a
 * no-op: what a pane test varies is which conversation it shows and what happens once a new one is created.
 */
export function TestChatPane(props: { conversationId: string | null; onCreated?: (conversationId: string) => void }) {
  return (
    <ChatPane
      conversationId={props.conversationId}
      model={null}
      modelSetting={{ value: null, onChange: () => {}, note: null }}
      think={{ available: false, on: false, onChange: () => {} }}
      demo={false}
      unauthorized={false}
      onOpenSettings={() => {}}
      onCreated={props.onCreated ?? (() => {})}
      onNewChat={() => {}}
      onToggleSidebar={() => {}}
    />
  );
}
