import { useCallback, useState } from "react";
import { readDraftImages, type DraftImage } from "./images.js";
import type { ImagesSetting } from "./ImageDraft.js";

/** The composer's images: added from the chooser, a paste or a drop; taken (and emptied) when the message goes. */
export function useImageDrafts(): ImagesSetting & { take(): DraftImage[] } {
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
  return { drafts, add, remove, problem, take };
}
