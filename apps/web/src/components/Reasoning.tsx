import { useId, useLayoutEffect, useRef, useState } from "react";
import type { ReasoningStep } from "../chat/reducer.js";
import { Icon } from "./Icon.js";
import { Markdown } from "./Markdown.js";

/** "Thought for 4 s" when the page saw the reasoning happen; stored answers do not keep its timing. */
export function thoughtLabel(step: Pick<ReasoningStep, "startedAt" | "endedAt">): string {
  if (step.startedAt === null || step.endedAt === null) return "Thought process";
  return `Thought for ${Math.max(1, Math.round((step.endedAt - step.startedAt) / 1000))} s`;
}

/**
 * One round of reasoning. While the model reasons it streams in view (the newest lines, in a short box);
 * once the model moves on (answer, tool call) it folds to "Thought for N s", which expands on click.
 * A choice the reader made by clicking is kept. Its text is Markdown like the answer's: models reason in lists,
 * bold steps, code and (math models most of all) TeX, which read as noise when shown raw. No caret: the label's
 * shimmer already says it is being written.
 */
export function Reasoning({ step, live }: { step: ReasoningStep; live: boolean }) {
  const [choice, setChoice] = useState<boolean | null>(null);
  const open = choice ?? live;
  const bodyId = useId();
  const body = useRef<HTMLDivElement>(null);

  // Live, the box shows the newest thoughts: keep it scrolled to its end as text arrives.
  // Older lines fade out at the top only once there are more than fit.
  useLayoutEffect(() => {
    const el = body.current;
    if (!live || !el) return;
    el.scrollTop = el.scrollHeight;
    if (el.scrollHeight > el.clientHeight + 1) el.dataset.clipped = "";
    else delete el.dataset.clipped;
  });

  return (
    <div className="reasoning" data-testid="reasoning" data-live={live || undefined}>
      <button type="button" className="reasoning__toggle" aria-expanded={open} aria-controls={bodyId} onClick={() => setChoice(!open)}>
        <Icon name="bulb" size={15} />
        <span className={live ? "reasoning__label shimmer" : "reasoning__label"}>{live ? "Thinking…" : thoughtLabel(step)}</span>
        <span className="reasoning__chevron" aria-hidden="true">
          <Icon name="chevronDown" size={14} />
        </span>
      </button>
      {open && (
        // Live reasoning changes with every token: not read out from the transcript's live log as it streams.
        <div className="reasoning__text" id={bodyId} ref={body} data-testid="reasoning-text" aria-live={live ? "off" : undefined}>
          <Markdown text={step.text} />
        </div>
      )}
    </div>
  );
}
