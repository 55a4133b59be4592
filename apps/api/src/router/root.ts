import { router } from "../trpc.js";
import { chatRouter } from "./chat.js";
import { conversationsRouter } from "./conversations.js";
import { healthProcedure } from "./health.js";
import { modelsRouter } from "./models.js";
import { settingsRouter } from "./settings.js";
import { toolsRouter } from "./tools.js";

export const appRouter = router({
  chat: chatRouter,
  conversations: conversationsRouter,
  models: modelsRouter,
  tools: toolsRouter,
  settings: settingsRouter,
  health: healthProcedure,
});

export type AppRouter = typeof appRouter;
