// `pnpm quickstart`: the example against CHAT_URL (default http://127.0.0.1:3000). A failure the client expects (no
// server there, a token refused) is one line and exit 1, as the chat CLI says it, not a stack trace.
import { isChatClientError } from "@streamchat/client";
import { main } from "./quickstart.js";

try {
  await main(process.env.CHAT_URL || undefined);
} catch (error) {
  if (!isChatClientError(error)) throw error;
  const hint = error.code === "unreachable" ? " Is the server running (pnpm start)? CHAT_URL picks another." : error.code === "unauthorized" ? " Set CHAT_TOKEN." : "";
  process.stderr.write(`quickstart: ${error.code} — ${error.message}${hint}\n`);
  process.exitCode = 1;
}
