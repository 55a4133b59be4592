import { useEffect, useId, useRef, useState, type KeyboardEvent } from "react";
import { embedsOnly } from "@streamchat/core/browser";
import { trpc, type RouterOutputs } from "../trpc.js";
import { Icon } from "./Icon.js";

type ModelInfo = RouterOutputs["models"]["list"]["models"][number];
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

/** A model's capabilities in a few words, for its entry in the list. */
export function capabilityWords(capabilities: readonly string[] | undefined): string {
  const tools = capabilitySupport(capabilities, "tools");
  if (tools === "unknown") return "Capabilities not reported by the server";
  const thinks = capabilitySupport(capabilities, "thinking") === "yes";
  return [tools === "yes" ? "Uses tools" : "No tools", thinks ? "can think first" : null].filter(Boolean).join(", ");
}

/**
 * A model's entry in the list: the server's words for what it can do ("sees images, uses tools, thinks (low,
 * medium, high), 128K context"), "no tools" where it is known to lack them, and "loaded" when it is in memory.
 */
export function pickerWords(m: Pick<ModelInfo, "capabilities" | "capabilitiesInWords" | "loaded">): string {
  if (m.capabilities.length === 0 && m.capabilitiesInWords.length === 0) return capabilityWords(m.capabilities);
  const words = [...m.capabilitiesInWords];
  if (capabilitySupport(m.capabilities, "tools") === "no") words.unshift("no tools");
  const text = words.join(", ");
  const sentence = text ? text[0]!.toUpperCase() + text.slice(1) : "";
  return m.loaded ? `${sentence} · loaded` : sentence;
}

/** One sentence about what the chosen model can do, shown under the composer. */
export function modelNote(name: string, capabilities: readonly string[] | undefined): { text: string; toolsOff: boolean } {
  const tools = capabilitySupport(capabilities, "tools");
  if (tools === "no") {
    return {
      text: `Tools are off for ${name}: it cannot call them, so it answers without the clock, the calculator or the conversation search.`,
      toolsOff: true,
    };
  }
  if (tools === "unknown") {
    return { text: `The server does not say what ${name} supports: tools are offered, and it may not use them.`, toolsOff: false };
  }
  const thinks = capabilitySupport(capabilities, "thinking") === "yes";
  return {
    text: `${name} can check the clock, calculate and search your conversations${thinks ? ", and think before it answers" : ""}.`,
    toolsOff: false,
  };
}

/**
 * Type-ahead in the model list (the listbox pattern): the next model whose name starts with what was typed, from the
 * active one on (a longer prefix may stay where it is); one letter again and again moves through the models starting
 * with it. -1 when none does.
 */
export function typeaheadIndex(names: readonly string[], active: number, typed: string): number {
  const text = typed.toLowerCase();
  if (!text || names.length === 0) return -1;
  const repeated = [...text].every((c) => c === text[0]);
  const prefix = repeated ? text[0]! : text;
  // A new search starts after the active model; a longer prefix first checks the active one itself.
  const start = repeated || text.length === 1 ? active + 1 : active;
  for (let i = 0; i < names.length; i++) {
    const index = (start + i) % names.length;
    if (names[index]!.toLowerCase().startsWith(prefix)) return index;
  }
  return -1;
}

/** Letters typed within this long of each other make one type-ahead search. */
const typeaheadMs = 700;

export interface ModelPickerProps {
  value: string | null;
  onChange: (model: string) => void;
  /** id of the element that describes the chosen model (the note under the composer). */
  describedBy?: string;
}

/**
 * The models a chat can go to: the list without embedding models (core's embedsOnly: Ollama's `nomic-embed-text`
 * beside the chat models, LM Studio's), which only fail a chat. One the conversation already uses stays, so the picker still shows what it is on.
 */
export function chatModels<T extends Pick<ModelInfo, "name" | "capabilities">>(list: readonly T[], current: string | null): T[] {
  return list.filter((m) => m.name === current || !embedsOnly(m.capabilities));
}

/**
 * The model menu next to the composer: a button showing the current model that opens a list of the server's
 * models, each with its capabilities in words (listbox pattern: arrows, Home/End, Enter, Escape).
 */
export function ModelPicker({ value, onChange, describedBy }: ModelPickerProps) {
  const models = trpc.models.list.useQuery(undefined, { staleTime: 60_000 });
  const [open, setOpen] = useState(false);
  const [active, setActive] = useState(0);
  const button = useRef<HTMLButtonElement>(null);
  const listbox = useRef<HTMLUListElement>(null);
  const typed = useRef({ text: "", at: 0 });
  const id = useId();

  const list: ModelInfo[] = chatModels(models.data?.models ?? [], value);
  const defaultModel = models.data?.defaultModel ?? null;
  const selected = value && list.some((m) => m.name === value) ? value : defaultModel;
  // The server's default may be unlisted (an unreachable provider): still offered, capabilities unknown.
  const options: ModelInfo[] =
    selected && !list.some((m) => m.name === selected) ? [{ name: selected, capabilities: [], capabilitiesInWords: [] }, ...list] : list;

  useEffect(() => {
    if (open) listbox.current?.focus();
  }, [open]);
  useEffect(() => {
    if (open) listbox.current?.querySelector(`[data-index="${active}"]`)?.scrollIntoView({ block: "nearest" });
  }, [open, active]);

  const show = () => {
    typed.current = { text: "", at: 0 }; // letters typed before the list opened are no part of its search
    setActive(Math.max(0, options.findIndex((m) => m.name === selected)));
    setOpen(true);
  };
  const close = (refocus: boolean) => {
    setOpen(false);
    if (refocus) button.current?.focus();
  };
  const choose = (name: string) => {
    onChange(name);
    close(true);
  };

  const onListKey = (e: KeyboardEvent<HTMLUListElement>) => {
    const last = options.length - 1;
    const moves: Record<string, () => number> = {
      ArrowDown: () => Math.min(last, active + 1),
      ArrowUp: () => Math.max(0, active - 1),
      Home: () => 0,
      End: () => last,
    };
    const move = moves[e.key];
    if (move) {
      e.preventDefault();
      setActive(move());
    } else if (e.key.length === 1 && e.key !== " " && !e.ctrlKey && !e.metaKey && !e.altKey) {
      // Typing a model's name goes to it: servers list dozens of models, and arrows alone are slow.
      e.preventDefault();
      const text = (e.timeStamp - typed.current.at < typeaheadMs ? typed.current.text : "") + e.key;
      typed.current = { text, at: e.timeStamp };
      const found = typeaheadIndex(
        options.map((m) => m.name),
        active,
        text,
      );
      if (found >= 0) setActive(found);
    } else if (e.key === "Enter" || e.key === " ") {
      e.preventDefault();
      const option = options[active];
      if (option) choose(option.name);
    } else if (e.key === "Escape") {
      // This Escape closes the menu; it must not also stop a streaming answer or close the drawer.
      e.preventDefault();
      e.stopPropagation();
      close(true);
    } else if (e.key === "Tab") {
      close(false);
    }
  };

  if (models.error && !selected) return <span className="muted small">Models unavailable</span>;

  return (
    <div className="model-picker">
      <button
        ref={button}
        type="button"
        className="model-picker__button"
        aria-haspopup="listbox"
        aria-expanded={open}
        aria-controls={open ? `${id}-list` : undefined}
        aria-label={`Model: ${selected ?? "loading"}`}
        aria-describedby={describedBy}
        disabled={models.isPending}
        onClick={() => (open ? close(false) : show())}
        onKeyDown={(e) => {
          if (e.key === "ArrowDown" || e.key === "ArrowUp") {
            e.preventDefault();
            show();
          }
        }}
      >
        <span className="model-picker__name">{selected ?? "Loading…"}</span>
        <Icon name="chevronDown" size={14} />
      </button>
      {open && (
        <ul
          ref={listbox}
          id={`${id}-list`}
          className="model-menu"
          role="listbox"
          aria-label="Models"
          tabIndex={-1}
          aria-activedescendant={`${id}-option-${active}`}
          onKeyDown={onListKey}
          onBlur={(e) => {
            if (!e.currentTarget.contains(e.relatedTarget as Node | null) && e.relatedTarget !== button.current) close(false);
          }}
        >
          {options.map((m, index) => (
            <li
              key={m.name}
              id={`${id}-option-${index}`}
              data-index={index}
              role="option"
              aria-label={m.name}
              aria-describedby={`${id}-caps-${index}`}
              aria-selected={m.name === selected}
              data-active={index === active || undefined}
              className="model-option"
              onClick={() => choose(m.name)}
              onMouseMove={() => setActive(index)}
            >
              <span className="model-option__name">
                {m.name}
                {m.parameterSize && <span className="model-option__size">{m.parameterSize}</span>}
              </span>
              <span className="model-option__caps" id={`${id}-caps-${index}`} data-tools={capabilitySupport(m.capabilities, "tools")}>
                {pickerWords(m)}
              </span>
              {m.name === selected && (
                <span className="model-option__check" aria-hidden="true">
                  <Icon name="check" size={16} />
                </span>
              )}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

export function DemoBadge() {
  return (
    <span
      className="badge badge--demo"
      data-testid="demo-badge"
      title="Answers come from the Ollama-protocol simulator, not a real model."
    >
      Demo
    </span>
  );
}
