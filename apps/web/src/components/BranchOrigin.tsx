import type { OpenAt } from "../chat/openAt.js";
import type { RouterOutputs } from "../trpc.js";
import { Icon } from "./Icon.js";

export type BranchedFrom = NonNullable<RouterOutputs["conversations"]["get"]["branchedFrom"]>;

/**
 * A quiet line where a branch leaves its original ("Branched from Trip to Tokyo"): what is above it was copied, what
 * follows is the branch's own. The title opens the original at the answer the branch was made at (on its version,
 * should the original have moved on). A deleted original is said so, with nothing to open.
 */
export function BranchOrigin({ from, onOpen }: { from: BranchedFrom; onOpen?: ((conversationId: string, at: OpenAt) => void) | undefined }) {
  return (
    <div className="branch-origin" data-testid="branch-origin">
      <Icon name="branch" size={14} />
      {from.title === null ? (
        <span>Branched from a chat that was deleted</span>
      ) : (
        <span>
          Branched from{" "}
          {onOpen ? (
            <button type="button" className="branch-origin__link" onClick={() => onOpen(from.conversationId, { messageId: from.messageId })}>
              {from.title}
            </button>
          ) : (
            from.title
          )}
        </span>
      )}
    </div>
  );
}
