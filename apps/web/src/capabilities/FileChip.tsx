import { Icon } from "../components/Icon.js";
import { fileFacts } from "./text-files.js";

/**
 * What a file chip shows, in the composer's tray and on a sent message: a file icon, the name (cut with an ellipsis;
 * the chip's title has it whole) and "12 lines · 3.2 KB". The chip itself carries the accessible name (fileLabel).
 */
export function FileChipBody({ file }: { file: { name: string; text?: string | undefined; chars?: number | undefined } }) {
  return (
    <>
      <span className="file-chip__icon">
        <Icon name="file" size={18} />
      </span>
      <span className="file-chip__text" aria-hidden="true">
        <span className="file-chip__name">{file.name}</span>
        <span className="file-chip__facts">{fileFacts(file).join(" · ")}</span>
      </span>
    </>
  );
}
