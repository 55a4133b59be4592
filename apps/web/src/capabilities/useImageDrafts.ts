import { useCallback, useState } from "react";
import { maxImagesPerMessage, type ImageAttachment } from "@streamchat/core/browser";
import { draftImage, readDraftImages, type DraftImage } from "./images.js";
import type { ImagesSetting } from "./ImageDraft.js";

export interface ImageDrafts extends ImagesSetting {
  /** Empties the tray: the images go with the message. */
  take(): DraftImage[];
  /** A message that was not sent gives its images back (first, as they were; `name` says what each was called). */
  restore(attachments: readonly ImageAttachment[], name: (attachment: ImageAttachment) => string): void;
  /** Retry sent them after all: they leave the tray again. */
  drop(attachments: readonly ImageAttachment[]): void;
}

/** The composer's images: added from the chooser, a paste or a drop; taken (and emptied) when the message goes. */
export function useImageDrafts(): ImageDrafts {
  const [drafts, setDrafts] = useState<DraftImage[]>([]);
  const [problem, setProblem] = useState<string | null>(null);
  const add = useCallback(
    (files: File[]) => {
      void readDraftImages(files, drafts.length).then(({ images, problem }) => {
        setDrafts((current) => [...current, ...images].slice(0, 4));
        setProblem(problem);
      });
    },
    [drafts.length],
  );
  const remove = useCallback((id: string) => {
    setDrafts((current) => current.filter((d) => d.id !== id));
    setProblem(null);
  }, []);
  const take = useCallback(() => {
    setDrafts([]);
    setProblem(null);
    return drafts;
  }, [drafts]);
  const restore = useCallback((attachments: readonly ImageAttachment[], name: (attachment: ImageAttachment) => string) => {
    if (attachments.length === 0) return;
    setDrafts((current) => {
      const back = attachments.filter((a) => !current.some((d) => d.attachment.data === a.data)).map((a) => draftImage(a, name(a)));
      return [...back, ...current].slice(0, maxImagesPerMessage);
    });
  }, []);
  const drop = useCallback((attachments: readonly ImageAttachment[]) => {
    if (attachments.length === 0) return;
    const sent = new Set(attachments.map((a) => a.data));
    setDrafts((current) => current.filter((d) => !sent.has(d.attachment.data)));
  }, []);
  return { drafts, add, remove, problem, take, restore, drop };
}
