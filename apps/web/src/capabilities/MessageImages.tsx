import { useRef } from "react";

/** An image on a stored message as conversations.get returns it (with its data by default). */
export type MessageImage = { type: "image"; mimeType: string; data: string } | { type: "image"; mimeType: string; bytes: number };

/** Thumbnails on a user message; each opens the image full size in a dialog. */
export function MessageImages({ images }: { images: readonly MessageImage[] | undefined }) {
  const dialog = useRef<HTMLDialogElement>(null);
  const full = useRef<HTMLImageElement>(null);
  const shown = (images ?? []).flatMap((image) => ("data" in image ? [`data:${image.mimeType};base64,${image.data}`] : []));
  if (shown.length === 0) return null;
  const open = (url: string) => {
    if (!dialog.current || !full.current) return;
    full.current.src = url;
    dialog.current.showModal();
  };
  return (
    <div className="message-images" data-testid="message-images">
      {shown.map((url, i) => (
        <button key={i} type="button" className="message-image" onClick={() => open(url)} aria-label={`Open image ${i + 1} full size`}>
          <img src={url} alt={`Attached image ${i + 1}`} className="message-image__thumb" />
        </button>
      ))}
      <dialog ref={dialog} className="image-dialog" aria-label="Image" onClick={(e) => e.target === e.currentTarget && dialog.current?.close()}>
        <img ref={full} alt="Attached image, full size" className="image-dialog__img" data-testid="image-full" />
        <form method="dialog">
          <button type="submit" className="button button--small">
            Close
          </button>
        </form>
      </dialog>
    </div>
  );
}
