const paths = {
  menu: "M4 6h16M4 12h16M4 18h16",
  plus: "M12 5v14M5 12h14",
  pencil: "M4 20h4L19 9l-4-4L4 16v4zM14 6l4 4",
  trash: "M5 7h14M10 11v6M14 11v6M6 7l1 13h10l1-13M9 7V4h6v3",
  // A pushpin: its head, body and point; struck through to unpin.
  pin: "M8 4h8M9.5 4v5.5L6 14h12l-3.5-4.5V4M12 14v6",
  pinOff: "M8 4h8M9.5 4v5.5L6 14h12l-3.5-4.5V4M12 14v6M4 4l16 16",
  close: "M6 6l12 12M18 6L6 18",
  stop: "M8 8h8v8H8z",
  send: "M12 19V5M6 11l6-6 6 6",
  copy: "M9 9h10v11H9zM5 15H4V4h11v1",
  check: "M5 12.5l4.5 4.5L19 7",
  regenerate: "M20 11a8 8 0 0 0-14.9-3.5M4 4v4h4M4 13a8 8 0 0 0 14.9 3.5M20 20v-4h-4",
  info: "M12 21a9 9 0 1 0 0-18 9 9 0 0 0 0 18zM12 11v5M12 8h.01",
  chevronDown: "M6 9l6 6 6-6",
  chevronRight: "M9 6l6 6-6 6",
  chevronLeft: "M15 6l-6 6 6 6",
  more: "M6 12h.01M12 12h.01M18 12h.01",
  download: "M12 4v11M7 10l5 5 5-5M5 20h14",
  upload: "M12 20V9M7 14l5-5 5 5M5 4h14",
  search: "M11 18a7 7 0 1 0 0-14 7 7 0 0 0 0 14zM20 20l-4-4",
  bulb: "M9 18h6M10 21h4M12 3a6 6 0 0 0-3.6 10.8c.6.5 1 1.2 1.1 2h5c.1-.8.5-1.5 1.1-2A6 6 0 0 0 12 3z",
  tool: "M14.7 6.3a4 4 0 0 0-5.4 5.4L4 17v3h3l5.3-5.3a4 4 0 0 0 5.4-5.4l-2.6 2.6-2.4-.6-.6-2.4z",
  alert: "M12 21a9 9 0 1 0 0-18 9 9 0 0 0 0 18zM12 7.5v5.5M12 16.5h.01",
  newChat: "M12 20H6a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2h6M17.5 3.5a2.1 2.1 0 0 1 3 3L13 14l-4 1 1-4z",
  arrowDown: "M12 5v14M6 13l6 6 6-6",
  wrap: "M4 6h16M4 12h13a3 3 0 0 1 0 6h-4M4 18h5M15 16l-2 2 2 2",
  image: "M4 5h16v14H4zM4 16l5-5 4 4 3-3 4 4M15.5 9.5h.01",
  paperclip: "M20.5 11.5l-8.3 8.3a5.5 5.5 0 0 1-7.8-7.8l8.6-8.6a3.7 3.7 0 0 1 5.2 5.2l-8.6 8.6a1.8 1.8 0 0 1-2.6-2.6l7.9-7.9",
  file: "M14 3H7a2 2 0 0 0-2 2v14a2 2 0 0 0 2 2h10a2 2 0 0 0 2-2V8zM14 3v5h5M9 13h6M9 17h4",
  // A branch: a stem with a second line leaving it for a point of its own.
  branch: "M6 3v12M6 21a3 3 0 1 0 0-6 3 3 0 0 0 0 6zM18 9a3 3 0 1 0 0-6 3 3 0 0 0 0 6zM18 9a9 9 0 0 1-9 9",
  // A box with its lid: archive, and its lid lifted to bring back.
  archive: "M4 5h16v4H4zM5 9v10h14V9M10 13h4",
  unarchive: "M4 3l16 2-.5 4L3.5 7zM5 9v10h14V9M12 17v-5M9.5 14.5L12 12l2.5 2.5",
  // A clipboard with lines on it: instructions kept with a chat.
  instructions: "M9 3h6v3H9zM9 4.5H6v16h12v-16h-3M9 11h6M9 15h6M9 19h3",
  // Three sliders, each set somewhere else: how a chat's answers are sampled.
  sampling: "M4 6h9M17 6h3M15 4v4M4 12h3M11 12h9M9 10v4M4 18h11M19 18h1M17 16v4",
} as const;

export type IconName = keyof typeof paths;

/** Small stroke icons (inline SVG: no icon font, nothing to load). Decorative: buttons carry the label. */
export function Icon({ name, size = 18 }: { name: IconName; size?: number }) {
  return (
    <svg
      width={size}
      height={size}
      viewBox="0 0 24 24"
      fill="none"
      stroke="currentColor"
      strokeWidth="2"
      strokeLinecap="round"
      strokeLinejoin="round"
      aria-hidden="true"
      focusable="false"
      className="icon"
    >
      <path d={paths[name]} />
    </svg>
  );
}
