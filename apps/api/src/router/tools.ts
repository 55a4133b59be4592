import { z } from "zod";
import { idSchema } from "../input-schemas.js";
import { authedProcedure, router } from "../trpc.js";

export const toolsRouter = router({
  /** The user's tools (built-ins and MCP servers' tools) and each MCP server's state and the user's switch for it. */
  list: authedProcedure.query(({ ctx }) => ctx.tools.list(ctx.userId)),

  /** Turns an MCP server's tools on or off for the user's chats (stored; runs started afterwards follow it). */
  setServerEnabled: authedProcedure
    .input(z.object({ server: idSchema, enabled: z.boolean() }))
    .mutation(({ ctx, input }) => ctx.tools.setServerEnabled(ctx.userId, input.server, input.enabled)),
});
