import type { IncomingMessage, Server, ServerResponse } from "node:http";

/** The first response this process sent to its end, kept for the life of the process (see keepResponseShape). */
let kept: ServerResponse | undefined;

/**
 * Keeps the first response that closes alive for the life of the process, so that V8 gives every later response
 * fast properties. V8 sizes the objects a constructor makes from the shapes its first seven objects took (in-object
 * slack tracking), and a full GC forgets the shapes of objects that died. A server that answered six requests (health
 * checks, a page load) and was then idle long enough for a full GC had no live response when its seventh came: V8
 * gave ServerResponse no in-object fields, and since Node adds ~60 properties to each, every response after that, each
 * open chat.events stream among them, was a dictionary for the life of the process (larger, and slower to read on
 * every write). The same holds for the model requests (core's node transport keeps one). Costs a listener on the first
 * requests only, and one finished response with its request.
 */
export function keepResponseShape(server: Server): void {
  if (kept) return;
  const onRequest = (_req: IncomingMessage, res: ServerResponse) => {
    res.on("close", () => {
      // One cut short (the client went) may not have taken a finished response's shape.
      if (kept || !res.writableFinished) return;
      kept = res;
      server.off("request", onRequest);
    });
  };
  server.on("request", onRequest);
}
