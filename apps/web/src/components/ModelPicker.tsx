import { trpc } from "../trpc.js";

const shownCapabilities = ["tools", "thinking"] as const;

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

  return (
    <div className="model-picker">
      <label htmlFor="model-select" className="model-picker__label">
        Model {demo && <span className="muted small">simulator</span>}
      </label>
      <select id="model-select" value={selected} onChange={(e) => onChange(e.target.value)}>
        {!list.some((m) => m.name === selected) && <option value={selected}>{selected}</option>}
        {list.map((m) => (
          <option key={m.name} value={m.name}>
            {m.name}
            {m.parameterSize ? ` · ${m.parameterSize}` : ""}
          </option>
        ))}
      </select>
      <div className="badges" aria-label="Capabilities">
        {shownCapabilities.map((capability) => {
          const has = info?.capabilities.includes(capability) ?? false;
          return (
            <span
              key={capability}
              className={`badge ${has ? "badge--on" : "badge--off"}`}
              title={has ? `Supports ${capability}` : `No ${capability}`}
            >
              {has ? "✓" : "–"} {capability}
            </span>
          );
        })}
      </div>
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
