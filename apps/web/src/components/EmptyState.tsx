import { Icon, type IconName } from "./Icon.js";

export interface Suggestion {
  prompt: string;
  /** What it shows off, in a few words. */
  hint: string;
  icon: IconName;
  /** Sent with Think on (offered only for thinking models). */
  think?: boolean;
  /** A capability the chosen model needs (images: when attachments exist, a "describe this picture" one). */
  needs?: "thinking";
}

/**
 * First-run prompts that show what the app does — streaming, tools, reasoning, code — and that the offline
 * demo model answers well (see packages/ollama-sim/src/demo-*.ts).
 */
export const suggestions: Suggestion[] = [
  { prompt: "What time is it in Tokyo?", hint: "Calls the clock tool", icon: "tool" },
  { prompt: "Explain server-sent events in a short list", hint: "Streams a formatted answer", icon: "send" },
  { prompt: "Compare WebSockets and server-sent events", hint: "Thinks first, then answers with a table", icon: "bulb", think: true, needs: "thinking" },
  { prompt: "Write a TypeScript function that reverses a string", hint: "Writes highlighted code", icon: "pencil" },
];

export function EmptyState({
  demo,
  canThink,
  onPick,
}: {
  demo: boolean;
  canThink: boolean;
  onPick: (suggestion: Suggestion) => void;
}) {
  const shown = suggestions.filter((s) => s.needs !== "thinking" || canThink);
  return (
    <div className="empty" data-testid="empty-state">
      <h2>How can I help?</h2>
      <p className="muted">
        {demo
          ? "A demo model answers here: the Ollama-protocol simulator, not a real model (start Ollama, or set OLLAMA_HOST, for real answers). It streams, uses tools and thinks like a real one."
          : "Answers stream in as they are written. Try one of these:"}
      </p>
      <ul className="suggestions" aria-label="Suggestions">
        {shown.map((s) => (
          <li key={s.prompt}>
            <button type="button" className="suggestion" onClick={() => onPick(s)}>
              <span className="suggestion__icon" aria-hidden="true">
                <Icon name={s.icon} size={16} />
              </span>
              <span className="suggestion__text">
                <span className="suggestion__prompt">{s.prompt}</span>
                <span className="suggestion__hint">{s.hint}</span>
              </span>
            </button>
          </li>
        ))}
      </ul>
    </div>
  );
}
