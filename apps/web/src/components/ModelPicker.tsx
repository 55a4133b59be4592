import { trpc } from "../trpc.js";

const shownCapabilities = ["tools", "thinking"] as const;
type ShownCapability = (typeof shownCapabilities)[number];

/**
 * Whether a model has a capability. An empty list means the server did not say (OpenAI-compatible servers,
 * or a failed /api/show): unknown, not "no" — the UI must not claim tools are off when it cannot know.
 */
export function capabilitySupport(capabilities: readonly string[] | undefined, capability: ShownCapability): "yes" | "no" | "unknown" {
  if (!capabilities || capabilities.length === 0) return "unknown";
  return capabilities.includes(capability) ? "yes" : "no";
}

const badgeText: Record<"yes" | "no" | "unknown", { mark: string; title: (c: string) => string }> = {
  yes: { mark: "✓", title: (c) => `Supports ${c}` },
  no: { mark: "–", title: (c) => `No ${c}` },
  unknown: { mark: "?", title: (c) => `The server does not say whether this model supports ${c}` },
};

export interface ModelPickerProps {
  value: string | null;
  onChange: (model: string) => void;
}

/** Models from the provider with their capabilities; the server's default until the user picks one. */
export function ModelPicker({ value, onChange }: ModelPickerProps) {
  const models = trpc.models.list.useQuery(undefined, { staleTime: 60_000 });
  if (models.isPending) return <p className="muted small">Loading models…</p>;
  if (models.error) return <p className="muted small">Models unavailable: {models.error.message}</p>;

  const { models: list, defaultModel, demo } = models.data;
  const selected = value && list.some((m) => m.name === value) ? value : defaultModel;
  const info = list.find((m) => m.name === selected);
  const toolsOff = capabilitySupport(info?.capabilities, "tools") === "no";

  return (
    <div className="model-picker">
      <label htmlFor="model-select" className="model-picker__label">
        Model {demo && <span className="muted small">simulator</span>}
      </label>
      <select id="model-select" value={selected} onChange={(e) => onChange(e.target.value)} aria-describedby={toolsOff ? "tools-off-note" : undefined}>
        {!list.some((m) => m.name === selected) && <option value={selected}>{selected}</option>}
        {list.map((m) => (
          <option key={m.name} value={m.name}>
            {m.name}
            {m.parameterSize ? ` · ${m.parameterSize}` : ""}
            {capabilitySupport(m.capabilities, "tools") === "no" ? " · no tools" : ""}
          </option>
        ))}
      </select>
      <div className="badges" aria-label="Capabilities">
        {shownCapabilities.map((capability) => {
          const support = capabilitySupport(info?.capabilities, capability);
          return (
            <span
              key={capability}
              className={`badge ${support === "yes" ? "badge--on" : "badge--off"}`}
              title={badgeText[support].title(capability)}
              data-support={support}
            >
              {badgeText[support].mark} {capability}
            </span>
          );
        })}
      </div>
      {toolsOff && (
        <p className="model-picker__note" id="tools-off-note" data-testid="tools-off-note">
          Tools are off for {selected}: it cannot call them, so it answers without the clock, the calculator or
          the conversation search.
        </p>
      )}
    </div>
  );
}

export function DemoBadge() {
  return (
    <span
      className="badge badge--demo"
      data-testid="demo-badge"
      title="No model server was found: answers come from the built-in simulator."
    >
      demo model
    </span>
  );
}
