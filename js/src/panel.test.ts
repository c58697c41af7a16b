// @vitest-environment jsdom
import { afterEach, describe, expect, it, vi } from "vitest";
import { Panel, POLL_MS } from "./panel";
import { FakeModel } from "./testing";
import type { State } from "./types";

let panels: Panel[] = [];

function mount(overrides: Partial<State> = {}) {
  const model = new FakeModel(overrides);
  const panel = new Panel(model, model.invoke);
  document.body.append(panel.root);
  panels.push(panel);
  const $ = <T extends HTMLElement = HTMLElement>(sel: string) => panel.root.querySelector<T>(sel)!;
  const $$ = (sel: string) => [...panel.root.querySelectorAll<HTMLElement>(sel)];
  return { model, panel, $, $$ };
}

afterEach(() => {
  panels.forEach((p) => p.destroy());
  panels = [];
  vi.useRealTimers();
});

describe("top of the panel", () => {
  it("shows one button per phone field, labelled with the field, and the selected number", () => {
    const { $, $$ } = mount();
    expect($$(".twp-field-button").map((b) => b.textContent)).toEqual(["mobile", "office"]);
    expect($$(".twp-field-button")[0].getAttribute("aria-pressed")).toBe("true");
    expect($("[data-testid=selected-number]").textContent).toBe("(415) 555-0100");
    expect($("[data-testid=contact-name]").textContent).toBe("Ada Lovelace");
  });

  it("selects a field's number when its button is clicked", () => {
    const { model, $$ } = mount();
    $$(".twp-field-button")[1].click();
    expect(model.state.selected_number).toBe("+442079460018");
    expect(model.saves).toBeGreaterThan(0);
  });

  it("follows the kernel when Python changes the selection or the tab", () => {
    const { model, $, $$ } = mount();
    model.kernelSets({ selected_number: "+442079460018", selected_display: "+44 20 7946 0018", tab: "history" });
    expect($("[data-testid=selected-number]").textContent).toBe("+44 20 7946 0018");
    expect($$(".twp-field-button")[1].getAttribute("aria-pressed")).toBe("true");
    expect($(".twp-history").hidden).toBe(false);
    expect($(".twp-numpad").hidden).toBe(true);
  });

  it("says when the selected number is in no contact", () => {
    const { $ } = mount({ contact: { key: "", name: "Unknown number", fields: {}, position: 0, count: 3 }, numbers: [] });
    expect($("[data-testid=contact-name]").textContent).toBe("Unknown number");
    expect($(".twp-contact-position").textContent).toBe("not in your contacts");
  });

  it("says so when the sandbox is in use", () => {
    const { $ } = mount();
    expect($("[data-testid=mode-banner]").textContent).toMatch(/Sandbox/);
    expect(mount({ mode: "twilio" }).$("[data-testid=mode-banner]").hidden).toBe(true);
  });

  it("offers the user's own phone where the page cannot use a microphone", async () => {
    const blocked = { message: "Permission denied", code: 31401 };
    const { model, $ } = mount({
      mode: "twilio",
      device: { status: "registered", error: blocked, bridge_offer: { number: "+12025550143", display: "(202) 555-0143" } },
    });
    expect($("[data-testid=mode-banner]").hidden).toBe(false);
    expect($("[data-testid=mode-banner]").textContent).toMatch(/cannot use a microphone/);
    $<HTMLButtonElement>("[data-testid=use-bridge]").click();
    await Promise.resolve();
    expect(model.commands).toContainEqual({ name: "cmd_use_bridge", msg: {} });
    model.kernelSets({ mode: "bridge" });
    expect($("[data-testid=use-bridge]")).toBeNull();
    expect($("[data-testid=mode-banner]").textContent).toMatch(/Bridge mode/);
  });

  it("says how to set up bridge mode when the phone has no number to ring", () => {
    const { $ } = mount({ mode: "twilio", device: { status: "registered", bridge_offer: { number: "", display: "" } } });
    expect($("[data-testid=use-bridge]")).toBeNull();
    expect($("[data-testid=mode-banner]").textContent).toMatch(/bridge_to=/);
  });

  it("steps between contacts with the kernel's command", async () => {
    const { model, $ } = mount();
    $("[aria-label='Next contact']").click();
    await Promise.resolve();
    expect(model.commands).toContainEqual({ name: "cmd_step_contact", msg: { step: 1 } });
  });
});

describe("tabs", () => {
  it("switches with the buttons at the bottom", () => {
    const { model, $, $$ } = mount();
    const tabs = $$(".twp-tab");
    expect(tabs.map((t) => t.getAttribute("aria-label"))).toEqual(["Numpad", "Call history", "Messages"]);
    tabs[2].click();
    expect(model.state.tab).toBe("messages");
    expect($(".twp-messages").hidden).toBe(false);
    expect(tabs[2].getAttribute("aria-selected")).toBe("true");
  });
});

describe("numpad", () => {
  it("types, corrects and erases the number", () => {
    const { model, $ } = mount({ dialpad: "" });
    for (const k of ["4", "1", "5"]) $(`.twp-key[data-key='${k}']`).click();
    expect(model.state.dialpad).toBe("415");
    $(".twp-erase").click();
    expect(model.state.dialpad).toBe("41");
    expect($("[data-testid=dialpad]").textContent).toBe("41");
  });

  it("takes digits typed on the keyboard and keeps them from the notebook", () => {
    const { model, panel } = mount({ dialpad: "" });
    const outside = vi.fn();
    document.body.addEventListener("keydown", outside);
    for (const key of ["2", "0", "#"]) {
      panel.root.dispatchEvent(new KeyboardEvent("keydown", { key, bubbles: true }));
    }
    panel.root.dispatchEvent(new KeyboardEvent("keydown", { key: "Backspace", bubbles: true }));
    expect(model.state.dialpad).toBe("20");
    expect(outside).not.toHaveBeenCalled();
    document.body.removeEventListener("keydown", outside);
  });

  it("calls, then offers hang-up while the call is active", async () => {
    const { model, $ } = mount();
    $("[data-testid=call-button]").click();
    await Promise.resolve();
    expect(model.commands.at(-1)?.name).toBe("cmd_call");
    model.kernelSets({ call: { sid: "CA1", status: "ringing", remote: "+14155550100", remote_display: "(415) 555-0100" } });
    expect($("[data-testid=call-status]").textContent).toBe("Ringing…");
    $("[data-testid=hangup-button]").click();
    await Promise.resolve();
    expect(model.commands.at(-1)?.name).toBe("cmd_hang_up");
  });

  it("disables the call button with the kernel's reason while the pad holds no callable number", async () => {
    const problem = "Not a valid number (too short)";
    const { model, panel, $ } = mount({ dialpad: "+1415555010", dialpad_check: { dialpad: "+1415555010", problem } });
    const button = $<HTMLButtonElement>("[data-testid=call-button]");
    const reason = $("[data-testid=dial-problem]");
    expect(button.disabled).toBe(true);
    expect(button.title).toBe(problem);
    expect(reason.hidden).toBe(false);
    expect(reason.textContent).toBe(problem);
    expect(button.getAttribute("aria-describedby")).toBe(reason.id);
    button.click();
    panel.root.dispatchEvent(new KeyboardEvent("keydown", { key: "Enter", bubbles: true }));
    await Promise.resolve();
    expect(model.commands.filter((c) => c.name === "cmd_call")).toHaveLength(0);
    model.kernelSets({ dialpad: "+14155550100", dialpad_check: { dialpad: "+14155550100", problem: "" } });
    expect(button.disabled).toBe(false);
    expect(reason.hidden).toBe(true);
    expect(button.hasAttribute("aria-describedby")).toBe(false);
  });

  it("offers to call anyway, with a reason, when a calling rule refuses the number", async () => {
    const problem = "7:42 am in Denver: calls allowed from 8:00";
    const { model, $ } = mount({ dialpad: "+13035550100", dialpad_check: { dialpad: "+13035550100", problem, rule: true } });
    expect($<HTMLButtonElement>("[data-testid=call-button]").disabled).toBe(true);
    expect($("[data-testid=dial-problem]").textContent).toBe(problem);
    const row = $("[data-testid=call-anyway]").parentElement as HTMLElement;
    expect(row.hidden).toBe(false);
    $<HTMLButtonElement>("[data-testid=call-anyway]").click();
    await Promise.resolve();
    expect(model.commands.filter((c) => c.name === "cmd_call")).toHaveLength(0); // no reason given yet
    $<HTMLInputElement>("[data-testid=override-reason]").value = "they asked for 7:45";
    $<HTMLButtonElement>("[data-testid=call-anyway]").click();
    await Promise.resolve();
    expect(model.commands.at(-1)).toMatchObject({ name: "cmd_call", msg: { override: "they asked for 7:45" } });
    model.kernelSets({ dialpad_check: { dialpad: "+13035550100", problem: "Not a valid number (too short)" } });
    expect(row.hidden).toBe(true); // only a rule can be set aside, never a bad number
  });

  it("leaves a voicemail in one click on an answered outgoing call", async () => {
    const { model, $ } = mount({ call: { sid: "CA1", status: "in-progress", direction: "outbound",
      answered_by: "machine_end_beep" } });
    const drop = $<HTMLButtonElement>("[data-testid=voicemail-drop]");
    expect(drop.textContent).toBe("Voicemail: leave message");
    drop.click();
    await Promise.resolve();
    expect(model.commands.at(-1)?.name).toBe("cmd_drop_voicemail");
    model.kernelSets({ call: { sid: "CA1", status: "in-progress", direction: "outbound", voicemail_dropped: true } });
    expect(document.querySelector("[data-testid=voicemail-drop]")).toBeNull();
  });

  it("shows whether the call is recorded, and why, when recording is on", () => {
    const reason = "US-CA: every party must consent (California Penal Code § 632): announced, then recorded";
    const { model, $ } = mount({ call: { sid: "CA1", status: "ringing", direction: "outbound", recording: {
      record: true, announce: true, consent: "all-party", place: "US-CA", reason } } });
    const note = $("[data-testid=call-recording]");
    expect(note.getAttribute("role")).toBe("note");
    expect(note.getAttribute("aria-label")).toBe("Recording: Recorded, announced first");
    expect(note.title).toBe(reason);
    model.kernelSets({ call: { sid: "CA1", status: "ringing", recording: {
      record: false, announce: false, consent: "", place: "", reason: "recording is off" } } });
    expect(document.querySelector("[data-testid=call-recording]")).toBeNull();
  });

  it("trusts a verdict only on the text the pad shows (the kernel answers each key press)", () => {
    const { model, $ } = mount({ dialpad_check: { dialpad: "+1415555010", problem: "Not a valid number (too short)" } });
    $(".twp-key[data-key='0']").click();
    expect(model.state.dialpad).toBe("+141555501000");
    expect($<HTMLButtonElement>("[data-testid=call-button]").disabled).toBe(false);
    expect($("[data-testid=dial-problem]").hidden).toBe(true);
  });

  it("keeps hang-up working whatever the pad holds", async () => {
    const { model, $ } = mount({
      dialpad: "", dialpad_check: { dialpad: "", problem: "Type a number to call" },
      call: { sid: "CA1", status: "ringing" },
    });
    const button = $<HTMLButtonElement>("[data-testid=hangup-button]");
    expect(button.disabled).toBe(false);
    button.click();
    await Promise.resolve();
    expect(model.commands.at(-1)?.name).toBe("cmd_hang_up");
  });

  it("puts a chosen field's number back on the pad, so it is what the call dials", () => {
    const { model, $$ } = mount({ dialpad: "" });
    $$(".twp-field-button")[0].click();
    expect(model.state.dialpad).toBe("+14155550100");
  });

  it("sends DTMF instead of typing during a call", async () => {
    const { model, $ } = mount({ call: { sid: "CA1", status: "in-progress", started_at: new Date().toISOString() } });
    $(".twp-key[data-key='5']").click();
    await Promise.resolve();
    expect(model.commands.at(-1)).toEqual({ name: "cmd_digits", msg: { digits: "5" } });
    expect(model.state.dialpad).toBe("+14155550100");
  });
});

describe("call bar", () => {
  it("runs a timer while in progress and shows the end reason after", () => {
    vi.useFakeTimers();
    vi.setSystemTime(new Date("2026-05-01T12:00:00Z"));
    const { model, $ } = mount({ call: { sid: "CA1", status: "in-progress", started_at: "2026-05-01T11:59:55Z" } });
    expect($("[data-testid=call-timer]").textContent).toBe("0:05");
    vi.advanceTimersByTime(3000);
    expect($("[data-testid=call-timer]").textContent).toBe("0:08");
    model.kernelSets({ call: { sid: "CA1", status: "busy", end_reason: "busy" } });
    expect($("[data-testid=call-status]").textContent).toBe("Busy");
    expect($("[data-testid=callbar-hangup]")).toBeNull();
  });

  it("says the user's own phone rings first in bridge mode", () => {
    const { model, $ } = mount({ mode: "bridge", call: { sid: "CA1", status: "ringing", leg: "you" } });
    expect($("[data-testid=call-status]").textContent).toBe("Ringing your phone…");
    model.kernelSets({ call: { sid: "CA1", status: "in-progress", leg: "you" } });
    expect($("[data-testid=call-status]").textContent).toBe("Connecting to the contact…");
    model.kernelSets({ call: { sid: "CA1", status: "ringing", leg: "lead" } });
    expect($("[data-testid=call-status]").textContent).toBe("Ringing…");
  });

  it("offers no mute in bridge mode: the call is on the user's own phone", () => {
    const { $ } = mount({ mode: "bridge", call: { sid: "CA1", status: "in-progress", started_at: null } });
    expect($(".twp-mute")).toBeNull();
    expect($("[data-testid=callbar-hangup]")).not.toBeNull();
  });

  it("keeps hang-up, not dismiss, while a call reconnects", () => {
    const { $ } = mount({ call: { sid: "CA1", status: "reconnecting", started_at: null } });
    expect($("[data-testid=call-status]").textContent).toBe("Reconnecting…");
    expect($("[data-testid=callbar-hangup]")).not.toBeNull();
  });

  it("asks the kernel to clear an ended call, and writes no call itself", async () => {
    const { model, $ } = mount({ call: { sid: "CA1", status: "completed", duration: 5 } });
    const saves = model.saves;
    $(".twp-dismiss").click();
    await Promise.resolve();
    expect(model.commands.at(-1)).toEqual({ name: "cmd_dismiss_call", msg: {} });
    expect(model.saves).toBe(saves);
    expect(model.state.call).toMatchObject({ sid: "CA1" });
  });

  it("mutes and unmutes through the kernel", async () => {
    const { model, $ } = mount({ call: { sid: "CA1", status: "in-progress", started_at: null, muted: false } });
    $(".twp-mute").click();
    await Promise.resolve();
    expect(model.commands.at(-1)).toEqual({ name: "cmd_mute", msg: { muted: true } });
  });
});

describe("history and messages", () => {
  it("lists calls newest first as the kernel gives them", () => {
    const { $$ } = mount({
      tab: "history",
      history: [
        { sid: "CA2", direction: "inbound", status: "completed", time: "2026-05-01T10:00:00Z", duration: 125, number: "+1" },
        { sid: "CA1", direction: "outbound", status: "no-answer", time: "2026-04-30T10:00:00Z", duration: 0, number: "+1" },
      ],
    });
    const rows = $$(".twp-history-row");
    expect(rows.map((r) => r.dataset.sid)).toEqual(["CA2", "CA1"]);
    expect(rows[0].querySelector(".twp-history-duration")!.textContent).toBe("2:05");
    expect(rows[1].querySelector(".twp-history-status")!.textContent).toBe("No answer");
  });

  it("sends the composed message and clears the box once the kernel accepts it", async () => {
    const { model, $ } = mount({ tab: "messages" });
    const box = $<HTMLTextAreaElement>(".twp-compose");
    box.value = "Hello there";
    $(".twp-send").click();
    await vi.waitFor(() => expect(box.value).toBe(""));
    expect(model.commands.at(-1)).toEqual({ name: "cmd_send_message", msg: { body: "Hello there" } });
  });

  it("keeps the text and shows the error when sending fails", async () => {
    const { model, $ } = mount({ tab: "messages" });
    model.answers.cmd_send_message = () => ({
      ok: false, error: { message: "Attempt to send to unsubscribed recipient", code: 21610 },
    });
    const box = $<HTMLTextAreaElement>(".twp-compose");
    box.value = "Hello";
    $(".twp-send").click();
    await vi.waitFor(() => expect(model.state.error?.code).toBe(21610));
    expect(box.value).toBe("Hello");
    expect($("[data-testid=error-text]").textContent).toContain("21610");
    expect($(".twp-error-hint").textContent).toMatch(/START/);
  });

  it("shows each message's direction and status", () => {
    const { $$ } = mount({
      tab: "messages",
      thread: [
        { sid: "SM1", direction: "inbound", body: "Hi", status: "received", time: null, error_code: null },
        { sid: "SM2", direction: "outbound", body: "Hello", status: "delivered", time: null, error_code: null },
      ],
    });
    const items = $$(".twp-message");
    expect(items.map((m) => [m.dataset.direction, m.dataset.status])).toEqual([
      ["inbound", "received"], ["outbound", "delivered"],
    ]);
  });
});

describe("incoming calls", () => {
  it("rings over any tab with the caller's card, and accepts", async () => {
    const { model, $ } = mount({ tab: "messages" });
    model.kernelSets({
      incoming: {
        sid: "CA9", from: "+14155550100", display: "(415) 555-0100",
        contact: { key: "0", name: "Ada Lovelace", fields: { company: "Analytical Engines" }, position: 0, count: 3 },
      },
    });
    expect($(".twp-incoming").hidden).toBe(false);
    expect($("[data-testid=incoming-caller]").textContent).toBe("Ada Lovelace");
    expect($("[data-testid=incoming-card]").textContent).toContain("Analytical Engines");
    $(".twp-accept").click();
    await Promise.resolve();
    expect(model.commands.at(-1)?.name).toBe("cmd_accept");
  });

  it("shows an unknown caller as such", () => {
    const { $ } = mount({ incoming: { sid: "CA9", from: "+12025550123", display: "(202) 555-0123", contact: null } });
    expect($(".twp-unknown").textContent).toBe("Unknown caller");
  });
});

describe("default look", () => {
  it("is one button whose pop-up lists the numbers; choosing one selects it", () => {
    const { model, $, $$ } = mount({ interpretation: "default" });
    expect($("[data-testid=default-button]").textContent).toContain("(415) 555-0100");
    $("[data-testid=default-button]").click();
    const items = $$(".twp-popup-item");
    expect(items).toHaveLength(2);
    items[1].click();
    expect(model.state.selected_number).toBe("+442079460018");
    expect($(".twp-popup")).toBeNull();
  });
});

describe("polling", () => {
  it("asks the kernel to catch up only while events are not pushed", async () => {
    vi.useFakeTimers();
    const { model } = mount({ live_events: true });
    vi.advanceTimersByTime(POLL_MS);
    expect(model.commands.filter((c) => c.name === "cmd_poll")).toHaveLength(0);
    model.kernelSets({ live_events: false });
    vi.advanceTimersByTime(POLL_MS * 2);
    expect(model.commands.filter((c) => c.name === "cmd_poll")).toHaveLength(2);
  });
});

describe("lifecycle", () => {
  it("stops listening to the model when destroyed", () => {
    const { model, panel } = mount();
    expect(model.listenerCount()).toBeGreaterThan(0);
    panel.destroy();
    panels = panels.filter((p) => p !== panel);
    expect(model.listenerCount()).toBe(0);
  });

  it("stops its timers when destroyed", () => {
    vi.useFakeTimers();
    const { model, panel } = mount({ live_events: false });
    panel.destroy();
    panels = panels.filter((p) => p !== panel);
    vi.advanceTimersByTime(POLL_MS * 2);
    expect(model.commands.filter((c) => c.name === "cmd_poll")).toHaveLength(0);
  });

  it("redraws only the regions that show the trait that changed", () => {
    const { model, $ } = mount({
      tab: "history",
      history: [{ sid: "CA1", direction: "outbound", status: "completed", time: null, duration: 3, number: "+1" }],
    });
    const list = $(".twp-history-list");
    const fields = $(".twp-field-button");
    model.kernelSets({ thread: [{ sid: "SM1", direction: "inbound", body: "Hi", status: "received", time: null, error_code: null }] });
    model.kernelSets({ dialpad: "+1415", error: { message: "x", code: null } });
    expect($(".twp-history-list")).toBe(list);
    expect($(".twp-field-button")).toBe(fields);
    model.kernelSets({ history: [] });
    expect($(".twp-history-list")).toBeNull();
  });

  it("reports a kernel that does not answer", async () => {
    const model = new FakeModel();
    const panel = new Panel(model, async () => { throw Object.assign(new Error("t"), { name: "TimeoutError" }); });
    panels.push(panel);
    await panel.run("cmd_refresh");
    expect(model.state.error?.message).toMatch(/did not answer \(timed out\)/);
  });
});
