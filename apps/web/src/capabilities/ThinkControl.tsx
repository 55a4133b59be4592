import type { ThinkLevel } from "@streamchat/core/browser";
import { Icon } from "../components/Icon.js";

/** What the composer asks for: off, on, or a level (models that take levels, such as gpt-oss). */
export type ThinkChoice = boolean | ThinkLevel;

const levelLabel: Record<ThinkLevel, string> = { low: "Low", medium: "Medium", high: "High" };

/**
 * Levels as a select named "Think level" (Off, Low, Medium, High) when the model takes them; otherwise the
 * on/off "Think" toggle (aria-pressed).
 */
export function ThinkControl(props: { levels: readonly ThinkLevel[] | undefined; value: ThinkChoice; onChange: (value: ThinkChoice) => void }) {
  const { levels, value, onChange } = props;
  if (levels && levels.length > 0) {
    const current = value === false ? "off" : value === true ? "medium" : value;
    return (
      <label className={`chip think-toggle think-select${value !== false ? " is-on" : ""}`} title="How long the model reasons before it answers">
        <Icon name="bulb" size={15} />
        <span className="visually-hidden">Think level</span>
        <select aria-label="Think level" value={current} onChange={(e) => onChange(e.target.value === "off" ? false : (e.target.value as ThinkLevel))} data-testid="think-level">
          <option value="off">Think: off</option>
          {levels.map((l) => (
            <option key={l} value={l}>
              Think: {levelLabel[l].toLowerCase()}
            </option>
          ))}
        </select>
      </label>
    );
  }
  const on = value !== false;
  return (
    <button
      type="button"
      className={`chip think-toggle${on ? " is-on" : ""}`}
      aria-pressed={on}
      onClick={() => onChange(!on)}
      title="Let the model reason before it answers"
      data-testid="think-toggle"
    >
      <Icon name="bulb" size={15} />
      Think
    </button>
  );
}
