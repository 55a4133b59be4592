// The API's stand-in for the SIGKILL test: starts a hub with server-everything over stdio, prints the
// server's pid once connected, then idles until it is killed.
import { createMcpHub } from "../hub.js";
import { configOf, everythingServer } from "./servers.js";

const hub = createMcpHub(configOf({ every: everythingServer() }));
await hub.ready();
const status = hub.status()[0];
process.stdout.write(`${JSON.stringify({ state: status?.state, pid: status?.pid })}\n`);
setInterval(() => undefined, 60_000);
