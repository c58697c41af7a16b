// @vitest-environment jsdom
// The "default" look: one button with a pop-up list of the numbers.
import { afterEach, describe, expect, it, vi } from "vitest";
import { type Mounted, mountPanel } from "./panel-harness";
import type { State } from "./types";

let mounted: Mounted[] = [];
afterEach(() => {
  mounted.forEach((m) => m.panel.destroy());
  mounted = [];
  vi.useRealTimers();
});

function mount(overrides: Partial<State> = {}): Mounted {
  const m = mountPanel({ interpretation: "default", ...overrides });
  mounted.push(m);
  return m;
}

const key = (name: string) => new KeyboardEvent("keydown", { key: name, bubbles: true });

describe("the pop-up list by keyboard", () => {
  it("opens on arrow down at the chosen number, moves with the arrows, chooses with Enter", () => {
    const { model, $, $$ } = mount();
    const toggle = $("[data-testid=default-button]");
    toggle.focus();
    toggle.dispatchEvent(key("ArrowDown"));
    expect(toggle.getAttribute("aria-expanded")).toBe("true");
    const items = $$(".twp-popup-item");
    expect(document.activeElement).toBe(items[0]);
    document.activeElement!.dispatchEvent(key("ArrowDown"));
    expect(document.activeElement).toBe($$(".twp-popup-item")[1]);
    document.activeElement!.dispatchEvent(key("Enter"));
    expect(model.state.selected_number).toBe("+442079460018");
    expect($(".twp-popup")).toBeNull();
    expect(document.activeElement).toBe($("[data-testid=default-button]"));
  });

  it("closes on Escape, giving focus back to the button", () => {
    const { model, $ } = mount();
    $("[data-testid=default-button]").click();
    document.activeElement!.dispatchEvent(key("Escape"));
    expect($(".twp-popup")).toBeNull();
    expect(document.activeElement).toBe($("[data-testid=default-button]"));
    expect(model.state.selected_number).toBe("+14155550100");
  });
});
