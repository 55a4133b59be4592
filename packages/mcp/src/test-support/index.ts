// For other packages' tests (the API's MCP tests): the reference and fault servers as MCP_CONFIG entries.
export { everythingServer, faultServer, faultServerPath, configOf, startHttpMcpServer, until, type HttpMcpServer } from "./servers.js";
