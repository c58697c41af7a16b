// @vitest-environment jsdom
// The "default" look (one button with a pop-up list of the numbers) places, controls and ends
// calls, and texts, as the panel does.
import { afterEach, describe, expect, it, vi } from "vitest";
import { type Mounted, mountPanel, shown } from "./panel-harness";
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

describe("calling from the default look", () => {
  it("calls the chosen number, then shows status, a running timer, mute and hang-up", async () => {
    vi.useFakeTimers();
    vi.setSystemTime(new Date("2026-05-01T12:00:00Z"));
    const { model, $ } = mount();
    const call = $<HTMLButtonElement>("[data-testid=default-call]");
    expect(shown(call)).toBe(true);
    expect(call.getAttribute("aria-label")).toBe("Call (415) 555-0100");
    call.click();
    await vi.waitFor(() => expect(model.commands.at(-1)).toEqual({ name: "cmd_call", msg: { number: "+14155550100" } }));
    model.kernelSets({ call: { sid: "CA1", status: "ringing", direction: "outbound", remote: "+14155550100" } });
    expect(shown($("[data-testid=call-status]"))).toBe(true);
    expect($("[data-testid=call-status]").textContent).toBe("Ringing…");
    model.kernelSets({ call: { ...model.state.call, status: "in-progress", started_at: "2026-05-01T11:59:55Z" } });
    expect($("[data-testid=call-timer]").textContent).toBe("0:05");
    vi.advanceTimersByTime(2000);
    expect($("[data-testid=call-timer]").textContent).toBe("0:07");
    expect(shown($(".twp-mute"))).toBe(true);
    $(".twp-mute").click();
    await vi.waitFor(() => expect(model.commands.at(-1)).toEqual({ name: "cmd_mute", msg: { muted: true } }));
    expect(shown($("[data-testid=callbar-hangup]"))).toBe(true);
    $("[data-testid=callbar-hangup]").click();
    await vi.waitFor(() => expect(model.commands.at(-1)?.name).toBe("cmd_hang_up"));
    model.kernelSets({ call: { ...model.state.call, status: "completed", end_reason: "completed", duration: 7 } });
    expect($("[data-testid=call-status]").textContent).toBe("Call ended");
    expect($("[data-testid=callbar-hangup]")).toBeNull();
  });

  it("calls the number chosen from the pop-up", async () => {
    const { model, $, $$ } = mount();
    $("[data-testid=default-button]").click();
    $$(".twp-popup-item")[1].click();
    model.kernelSets({ selected_display: "+44 20 7946 0018" }); // the kernel formats the choice
    expect($("[data-testid=default-call]").getAttribute("aria-label")).toBe("Call +44 20 7946 0018");
    $("[data-testid=default-call]").click();
    await vi.waitFor(() => expect(model.commands.at(-1)).toEqual({ name: "cmd_call", msg: { number: "+442079460018" } }));
  });

  it("sends keypad tones during a call", async () => {
    const { model, $ } = mount({ call: { sid: "CA1", status: "in-progress", started_at: null } });
    const toggle = $(".twp-keypad-toggle");
    expect(toggle.getAttribute("aria-expanded")).toBe("false");
    toggle.click();
    expect(toggle.getAttribute("aria-expanded")).toBe("true");
    $(".twp-dtmf-key[data-key='5']").click();
    await vi.waitFor(() => expect(model.commands.at(-1)).toEqual({ name: "cmd_digits", msg: { digits: "5" } }));
  });

  it("takes digits typed on the keyboard as tones during a call, and leaves the pad alone", async () => {
    const { model, panel } = mount({ dialpad: "+14155550100" });
    panel.root.dispatchEvent(key("5"));
    expect(model.state.dialpad).toBe("+14155550100");
    model.kernelSets({ call: { sid: "CA1", status: "in-progress", started_at: null } });
    panel.root.dispatchEvent(key("#"));
    await vi.waitFor(() => expect(model.commands.at(-1)).toEqual({ name: "cmd_digits", msg: { digits: "#" } }));
    expect(model.commands.filter((c) => c.name === "cmd_digits")).toHaveLength(1);
  });

  it("offers neither calling nor texting without a number", () => {
    const { $ } = mount({ numbers: [], selected_number: "", selected_display: "" });
    expect($<HTMLButtonElement>("[data-testid=default-call]").disabled).toBe(true);
    expect($<HTMLButtonElement>("[data-testid=default-text]").disabled).toBe(true);
  });
});

describe("texting from the default look", () => {
  it("opens the thread with a compose box, sends, and shows the message's status", async () => {
    const { model, $ } = mount();
    const text = $("[data-testid=default-text]");
    expect(text.getAttribute("aria-label")).toBe("Text (415) 555-0100");
    expect(shown($(".twp-compose"))).toBe(false);
    text.click();
    expect(text.getAttribute("aria-expanded")).toBe("true");
    expect(shown($(".twp-compose"))).toBe(true);
    $<HTMLTextAreaElement>(".twp-compose").value = "Hello from the default look";
    $(".twp-send").click();
    await vi.waitFor(() => expect($<HTMLTextAreaElement>(".twp-compose").value).toBe(""));
    expect(model.commands.at(-1)).toEqual({ name: "cmd_send_message", msg: { body: "Hello from the default look" } });
    model.kernelSets({
      thread: [{ sid: "SM1", direction: "outbound", body: "Hello from the default look", status: "delivered", time: null, error_code: null }],
    });
    expect(shown($(".twp-message[data-status=delivered]"))).toBe(true);
  });
});

describe("incoming calls in the default look", () => {
  it("rings with the caller, accepts, and hangs up from the call bar", async () => {
    const { model, $ } = mount();
    model.kernelSets({ incoming: { sid: "CA9", from: "+12025550123", display: "(202) 555-0123", contact: null } });
    expect(shown($(".twp-accept"))).toBe(true);
    $(".twp-accept").click();
    await vi.waitFor(() => expect(model.commands.at(-1)?.name).toBe("cmd_accept"));
    model.kernelSets({ call: { sid: "CA9", status: "in-progress", direction: "inbound", started_at: null }, incoming: null });
    expect(shown($("[data-testid=callbar-hangup]"))).toBe(true);
    $("[data-testid=callbar-hangup]").click();
    await vi.waitFor(() => expect(model.commands.at(-1)?.name).toBe("cmd_hang_up"));
  });
});

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
