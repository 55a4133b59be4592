import { defineTool, type AnyTool } from "@streamchat/core";
import { z } from "zod";

/**
 * `delete_file`, a tool that needs a person's approval before it runs, and the paths it ran with: what the approval
 * tests ask the demo model to call (it calls any offered tool it is asked to use).
 */
export function approvalTool(): { tool: AnyTool; ran: string[] } {
  const ran: string[] = [];
  const tool = defineTool({
    name: "delete_file",
    description: "Deletes a file",
    input: z.object({ path: z.string() }),
    requiresApproval: true,
    execute: async ({ path }) => {
      ran.push(path);
      return { deleted: path };
    },
  });
  return { tool, ran };
}
