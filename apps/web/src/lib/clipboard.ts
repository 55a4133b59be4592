/**
 * Writes text to the clipboard; false when the browser refuses. The async Clipboard API exists only in secure contexts:
 * a server opened over plain HTTP on the local network (http://192.168.1.20:3000, a common self-hosted setup) has no
 * `navigator.clipboard`, so the older copy command, which works from a click there too, is the fallback.
 */
export async function copyText(text: string): Promise<boolean> {
  try {
    if (navigator.clipboard) {
      await navigator.clipboard.writeText(text);
      return true;
    }
  } catch {
    // Denied (permissions, a document without focus): the copy command may still be allowed.
  }
  return copyWithCommand(text);
}

function copyWithCommand(text: string): boolean {
  if (typeof document === "undefined" || typeof document.execCommand !== "function") return false;
  const previous = document.activeElement instanceof HTMLElement ? document.activeElement : null;
  const area = document.createElement("textarea");
  area.value = text;
  area.setAttribute("readonly", ""); // no phone keyboard for it
  area.setAttribute("aria-hidden", "true");
  area.style.cssText = "position:fixed;top:0;left:0;width:1px;height:1px;opacity:0;pointer-events:none";
  document.body.append(area);
  try {
    area.focus({ preventScroll: true });
    area.select();
    return document.execCommand("copy");
  } catch {
    return false;
  } finally {
    area.remove();
    // The copy button keeps the focus (a keyboard user goes on from there).
    previous?.focus({ preventScroll: true });
  }
}
