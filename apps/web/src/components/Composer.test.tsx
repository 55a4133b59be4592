// @vitest-environment jsdom
import { cleanup, fireEvent, render } from "@testing-library/react";
import { afterEach, describe, expect, it } from "vitest";
import { Composer, type ThinkSetting } from "./Composer.js";

afterEach(cleanup);

function renderComposer(think: ThinkSetting) {
  return render(<Composer busy={false} canStop={false} onSubmit={() => {}} onStop={() => {}} stopping={false} think={think} draftKey="new" />);
}

describe("Composer Think toggle", () => {
  it("is not shown for a model without the thinking capability", () => {
    const { queryByTestId } = renderComposer({ available: false, on: true, onChange: () => {} });
    expect(queryByTestId("think-toggle")).toBeNull();
  });

  it("is shown for a thinking model, pressed as remembered, and toggles", () => {
    const changes: unknown[] = [];
    const { getByTestId } = renderComposer({ available: true, on: true, onChange: (on) => changes.push(on) });
    const toggle = getByTestId("think-toggle");
    expect(toggle.getAttribute("aria-pressed")).toBe("true");
    fireEvent.click(toggle);
    expect(changes).toEqual([false]);
  });
});

describe("Composer draft", () => {
  const think: ThinkSetting = { available: false, on: false, onChange: () => {} };
  const composer = (draftKey: string, onSubmit: (text: string) => void = () => {}) => (
    <Composer busy={false} canStop={false} onSubmit={onSubmit} onStop={() => {}} stopping={false} think={think} draftKey={draftKey} />
  );
  const box = (view: ReturnType<typeof render>) => view.container.querySelector("textarea")!;

  afterEach(() => localStorage.clear());

  it("opens with the conversation's draft, keeps what is typed, and drops it once sent", () => {
    localStorage.setItem("streamchat.draft.c1", JSON.stringify({ text: "from before", at: 1 }));
    const sent: string[] = [];
    const first = render(composer("c1", (text) => sent.push(text)));
    expect(box(first).value).toBe("from before");
    fireEvent.change(box(first), { target: { value: "from before, and more" } });
    first.unmount();

    const again = render(composer("c1", (text) => sent.push(text)));
    expect(box(again).value).toBe("from before, and more");
    fireEvent.keyDown(box(again), { key: "Enter" });
    expect(sent).toEqual(["from before, and more"]);
    expect(localStorage.getItem("streamchat.draft.c1")).toBeNull();
  });

  it("moves a new chat's draft to its conversation when the pane becomes the conversation's", () => {
    const view = render(composer("new"));
    fireEvent.change(box(view), { target: { value: "typed in the new chat" } });
    view.rerender(composer("c9"));
    expect(box(view).value).toBe("typed in the new chat");
    expect(localStorage.getItem("streamchat.draft.new")).toBeNull();
    expect(JSON.parse(localStorage.getItem("streamchat.draft.c9")!).text).toBe("typed in the new chat");
  });
});
