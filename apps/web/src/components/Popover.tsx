import { useId, useLayoutEffect, useRef, type ReactNode } from "react";

const panelWidth = 260;

/**
 * A button that opens a small panel beside it: the native popover API (light dismiss, Escape, top layer so
 * no scroller clips it, aria-expanded on the button). The panel is placed above the button, or below when
 * there is no room, and kept inside the viewport.
 */
export function Popover({
  label,
  title,
  buttonClassName,
  buttonContent,
  children,
}: {
  label: string;
  title?: string;
  buttonClassName: string;
  buttonContent: ReactNode;
  children: ReactNode;
}) {
  const id = useId();
  const button = useRef<HTMLButtonElement>(null);
  const panel = useRef<HTMLDivElement>(null);

  useLayoutEffect(() => {
    const el = panel.current;
    if (!el) return;
    // Placed before it shows (no frame at the UA's centred default): above the button, or below it when
    // the button is near the top. The width is fixed in CSS, so nothing needs measuring.
    const place = (event: Event) => {
      if ((event as ToggleEvent).newState !== "open" || !button.current) return;
      const anchor = button.current.getBoundingClientRect();
      const margin = 8;
      const width = Math.min(panelWidth, window.innerWidth - 2 * margin);
      el.style.width = `${width}px`;
      el.style.left = `${Math.min(Math.max(margin, anchor.left), window.innerWidth - width - margin)}px`;
      const below = anchor.top < 220;
      el.style.top = `${below ? anchor.bottom + 6 : anchor.top - 6}px`;
      el.style.transform = below ? "none" : "translateY(-100%)";
    };
    el.addEventListener("beforetoggle", place);
    return () => el.removeEventListener("beforetoggle", place);
  }, []);

  return (
    <>
      <button ref={button} type="button" className={buttonClassName} aria-label={label} title={title ?? label} popoverTarget={id}>
        {buttonContent}
      </button>
      <div ref={panel} id={id} popover="auto" className="popover" role="dialog" aria-label={label}>
        {children}
      </div>
    </>
  );
}
