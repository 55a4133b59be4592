import { useCallback, useEffect, useRef, useState } from "react";
import { maxImagesPerMessage, type ImageAttachment } from "@streamchat/core/browser";
import { draftStore } from "../chat/draftStore.js";
import { readAttachments, type MessageAttachment } from "./attachments.js";
import type { AttachmentsSetting } from "./AttachmentDraft.js";
import { draftImage, type DraftImage } from "./images.js";
import { draftFile, draftFilesBack, type DraftFile, type FileLimits } from "./text-files.js";

export interface AttachmentDrafts extends AttachmentsSetting {
  /** Empties the tray: the images and files go with the message. */
  take(): { images: DraftImage[]; files: DraftFile[] };
  /** A message that was not sent gives its attachments back (first, as they were; `imageName` says what each image was called). */
  restore(attachments: readonly MessageAttachment[], imageName: (image: ImageAttachment) => string): void;
  /** Retry sent them after all: they leave the tray again. */
  drop(attachments: readonly MessageAttachment[]): void;
}

interface Tray {
  images: DraftImage[];
  files: DraftFile[];
}

const emptyTray: Tray = { images: [], files: [] };
const sameFile = (a: DraftFile, file: { name: string; text: string }) => a.attachment.name === file.name && a.attachment.text === file.text;
/** The same files in the same order (the tray keeps each file's object while it stays). */
const sameFiles = (a: readonly DraftFile[], b: readonly DraftFile[]) => a.length === b.length && a.every((d, i) => d.attachment === b[i]?.attachment);

/** The tray a pane opens with: the text files kept with its draft (a reload, a closed tab), checked again. */
function openingTray(draftKey: string | undefined, fileLimits: FileLimits): { tray: Tray; problem: string | null } {
  if (draftKey === undefined) return { tray: emptyTray, problem: null };
  const back = draftFilesBack(draftStore.files(draftKey), fileLimits);
  return { tray: { images: [], files: back.files }, problem: back.problems.length > 0 ? back.problems.join(" ") : null };
}

/**
 * The composer's attachments: images (for a model that sees them) and text files (every model reads those), added
 * from the chooser, a paste or a drop; taken (and emptied) when the message goes. With a `draftKey` (whose draft the
 * composer holds) the text files are kept with the draft as they change, and come back with it; images are not kept.
 */
export function useAttachmentDrafts(opts: { vision: boolean; fileLimits: FileLimits; draftKey?: string | undefined }): AttachmentDrafts {
  const [opening] = useState(() => openingTray(opts.draftKey, opts.fileLimits));
  const [tray, setTray] = useState<Tray>(opening.tray);
  const [problem, setProblem] = useState<string | null>(opening.problem);
  const [reading, setReading] = useState(0);
  // Read when files are added, not when this rendered: two adds in a row count what the first one took too.
  const current = useRef(tray);
  current.current = tray;
  const settings = useRef(opts);
  settings.current = opts;
  const add = useCallback((picked: File[]) => {
    const { vision, fileLimits } = settings.current;
    setReading((n) => n + 1);
    void readAttachments(picked, { vision, images: current.current.images.length, files: current.current.files.length, fileLimits })
      .then((read) => {
        setTray((now) => {
          const next = {
            images: [...now.images, ...read.images].slice(0, maxImagesPerMessage),
            files: [...now.files, ...read.files].slice(0, fileLimits.maxCount),
          };
          current.current = next;
          return next;
        });
        setProblem(read.problems.length > 0 ? read.problems.join(" ") : null);
      })
      .finally(() => setReading((n) => n - 1));
  }, []);
  const remove = useCallback((id: string) => {
    setTray((now) => ({ images: now.images.filter((d) => d.id !== id), files: now.files.filter((d) => d.id !== id) }));
    setProblem(null);
  }, []);
  const take = useCallback(() => {
    const taken = current.current;
    current.current = emptyTray;
    setTray(emptyTray);
    setProblem(null);
    return taken;
  }, []);
  const restore = useCallback((attachments: readonly MessageAttachment[], imageName: (image: ImageAttachment) => string) => {
    if (attachments.length === 0) return;
    setTray((now) => {
      const images = attachments.flatMap((a) => (a.type === "image" && !now.images.some((d) => d.attachment.data === a.data) ? [draftImage(a, imageName(a))] : []));
      const files = attachments.flatMap((a) => (a.type === "file" && !now.files.some((d) => sameFile(d, a)) ? [draftFile(a)] : []));
      const next = {
        images: [...images, ...now.images].slice(0, maxImagesPerMessage),
        files: [...files, ...now.files].slice(0, settings.current.fileLimits.maxCount),
      };
      current.current = next;
      return next;
    });
  }, []);
  const drop = useCallback((attachments: readonly MessageAttachment[]) => {
    if (attachments.length === 0) return;
    const sentImages = new Set(attachments.flatMap((a) => (a.type === "image" ? [a.data] : [])));
    const sentFiles = attachments.flatMap((a) => (a.type === "file" ? [a] : []));
    setTray((now) => {
      const next = {
        images: now.images.filter((d) => !sentImages.has(d.attachment.data)),
        files: now.files.filter((d) => !sentFiles.some((f) => sameFile(d, f))),
      };
      current.current = next;
      return next;
    });
  }, []);
  // Every change of the files is kept with the draft (added, removed, sent, given back); a new chat's pane that became its
  // conversation's takes them along. Files this pane did not change are not written: another tab may have kept its own.
  const { draftKey } = opts;
  const keptAs = useRef(draftKey);
  const synced = useRef(tray.files);
  useEffect(() => {
    if (draftKey === undefined) return;
    const moved = keptAs.current !== draftKey;
    if (moved && keptAs.current !== undefined) draftStore.setFiles(keptAs.current, []);
    keptAs.current = draftKey;
    if (moved || !sameFiles(tray.files, synced.current)) draftStore.setFiles(draftKey, tray.files.map((d) => ({ name: d.attachment.name, text: d.attachment.text })));
    synced.current = tray.files;
  }, [draftKey, tray.files]);
  return { images: tray.images, files: tray.files, add, remove, problem, reading: reading > 0, take, restore, drop };
}
