/**
 * The runs this page knows to write on from their conversation's last answer (chat.continue): started here, or
 * elsewhere as the conversation feed said (`run-started`'s `continues`). Known before their log reaches the page, so
 * the pane keeps showing the answer they write on from, and a continue that fails offers Continue again. Kept for the
 * page's lifetime, as the run cache is: a few ids a session.
 */
const runs = new Set<string>();

export const continuingRuns = {
  add(runId: string): void {
    runs.add(runId);
  },
  has(runId: string): boolean {
    return runs.has(runId);
  },
};
