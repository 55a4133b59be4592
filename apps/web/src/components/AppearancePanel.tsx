import { useId } from "react";
import { themeChoices, useTheme, type ThemeChoice } from "../lib/theme.js";

const labels: Record<ThemeChoice, string> = { system: "System", light: "Light", dark: "Dark" };

/**
 * Appearance: System / Light / Dark, kept on this device (src/lib/theme.ts). Native radios under one name, so the
 * browser gives the group its keys (arrows move and choose, Tab leaves) and screen readers hear "Light, radio button,
 * checked, 2 of 3" with no roving tabindex of our own; the segments are their labels.
 */
export function AppearancePanel() {
  const [theme, setTheme] = useTheme();
  const name = useId();
  const hintId = useId();
  return (
    <details className="sidebar__details appearance-panel" data-testid="appearance-panel">
      <summary>Appearance</summary>
      {/* role: "radio group" is what screen readers announce on entering; a bare fieldset is just "group". */}
      <fieldset className="segmented" role="radiogroup" aria-describedby={hintId}>
        <legend className="visually-hidden">Theme</legend>
        {themeChoices.map((choice) => (
          <label key={choice} className="segmented__option">
            <input
              type="radio"
              className="segmented__input"
              name={name}
              value={choice}
              checked={theme === choice}
              onChange={() => setTheme(choice)}
            />
            <span>{labels[choice]}</span>
          </label>
        ))}
      </fieldset>
      <p id={hintId} className="appearance-panel__hint muted small">
        System follows your device.
      </p>
    </details>
  );
}
