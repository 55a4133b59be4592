import { createChatClient } from "@streamchat/client";

export async function main(
  url = "http://127.0.0.1:3000",
  out: { write(text: string): unknown } = process.stdout,
) {
  const chat = createChatClient({ url, token: process.env.CHAT_TOKEN });

  // Events arrive as the model produces them; the first one (run-start) names the conversation and run.
  let conversationId: string | undefined;
  for await (const event of chat.stream("What time is it in Tokyo?")) {
    if (event.type === "run-start") conversationId = event.conversationId;
    if (event.type === "tool-call") out.write(`[${event.name} ${JSON.stringify(event.args)}]\n`);
    if (event.type === "token") out.write(event.text);
    if (event.type === "error") throw new Error(`${event.code}: ${event.message}`);
  }

  // Or wait for the whole answer; same conversation, so the model sees the first question too.
  const followUp = await chat.complete("And what is 12*7?", { conversationId });
  out.write(`\n${followUp.text}\n`);
  return followUp;
}
