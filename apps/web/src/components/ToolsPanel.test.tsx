// @vitest-environment jsdom
import { cleanup, fireEvent, render } from "@testing-library/react";
import { afterEach, describe, expect, it } from "vitest";
import { serverError, trpcWrapper } from "../test-support/trpc.js";
import { ToolsPanel } from "./ToolsPanel.js";

afterEach(cleanup);

const open = (view: ReturnType<typeof render>) => {
  const details = view.getByTestId("tools-panel") as HTMLDetailsElement;
  details.open = true;
  fireEvent(details, new Event("toggle"));
};

describe("ToolsPanel", () => {
  it("says in words that the tools could not be loaded, not the server's raw message", async () => {
    const view = render(<ToolsPanel />, {
      wrapper: trpcWrapper(() => {
        throw serverError("INTERNAL_SERVER_ERROR", "SqliteError: database is locked at Statement.all", "internal");
      }),
    });
    open(view);
    const alert = await view.findByRole("alert");
    expect(alert.textContent).toBe("Could not load the tools. Something went wrong on the server.");
  });

  it("says so in words when the network is down", async () => {
    const view = render(<ToolsPanel />, {
      wrapper: trpcWrapper(() => {
        throw new TypeError("Failed to fetch");
      }),
    });
    open(view);
    const alert = await view.findByRole("alert");
    expect(alert.textContent).toBe("Could not load the tools. The server is not reachable.");
  });
});
