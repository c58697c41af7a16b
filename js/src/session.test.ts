// @vitest-environment jsdom
import { afterEach, describe, expect, it, vi } from "vitest";
import { mountPanel, shown, type Mounted } from "./panel-harness";
import { clockText } from "./session";
import type { SessionLead, SessionView } from "./types";

const lead = (name: string, key: string, extra: Partial<SessionLead> = {}): SessionLead => ({
  key, name, number: "+14155550101", display: "(415) 555-0101", field: "mobile",
  fields: { name, stage: "new" }, zone: "America/Los_Angeles", local_time: "2026-05-01T08:05:00",
  attempts: 0, callback_at: null, ...extra,
});

function view(overrides: Partial<SessionView> = {}): SessionView {
  return {
    queue: "default", status: "ready", position: 12, total: 340, open: 329,
    lead: lead("Alan Turing", "12"), next: lead("Grace Hopper", "13"),
    outcomes: [
      { name: "connected", label: "Connected", callback: false },
      { name: "no answer", label: "No answer", callback: false },
      { name: "call back", label: "Call back", callback: true },
    ],
    require_outcome: true, suggested: "", autodial: null, countdown: 0, call_sid: "", next_due: null,
    ...overrides,
  };
}

let mounted: Mounted[] = [];
function mount(session: SessionView | null) {
  const m = mountPanel({ session });
  mounted.push(m);
  const byLabel = (label: string) => m.$<HTMLButtonElement>(`[aria-label="${label}"]`);
  return { ...m, byLabel };
}

afterEach(() => {
  mounted.forEach((m) => m.panel.destroy());
  mounted = [];
  vi.useRealTimers();
});

describe("the calling session view", () => {
  it("is hidden without a session", () => {
    const { $ } = mount(null);
    expect(shown($("[data-testid=session]"))).toBe(false);
  });

  it("shows the lead's card, where the queue stands and the next lead", () => {
    const { $ } = mount(view());
    expect(shown($("[data-testid=session]"))).toBe(true);
    expect($("[data-testid=session-progress]").textContent).toBe("12 of 340");
    expect($("[data-testid=session-lead-name]").textContent).toBe("Alan Turing");
    expect($("[data-testid=session-lead-clock]").textContent).toBe("08:05 their time (America/Los_Angeles)");
    expect($("[data-testid=session-next]").textContent).toBe("Next: Grace Hopper · (415) 555-0101");
    expect($(".twp-session-fields").textContent).toBe("nameAlan Turingstagenew");
  });

  it("calls, skips and pauses through the kernel", () => {
    const { model, byLabel } = mount(view());
    byLabel("Call lead").click();
    byLabel("Skip lead").click();
    byLabel("Pause session").click();
    expect(model.commands.map((c) => [c.name, c.msg])).toEqual([
      ["cmd_session_call", {}], ["cmd_session_skip", {}], ["cmd_session_pause", { paused: true }]]);
    model.kernelSets({ session: view({ status: "paused" }) });
    expect(byLabel("Resume session").textContent).toBe("Resume");
    expect(byLabel("Call lead").disabled).toBe(true);
    byLabel("Resume session").click();
    expect(model.commands.at(-1)).toEqual({ name: "cmd_session_pause", msg: { paused: false } });
  });

  it("books a call-back at a time on the lead's clock", () => {
    const { model, $, byLabel } = mount(view());
    $<HTMLInputElement>("[aria-label=\"Call back at (lead's time)\"]").value = "2026-05-02T10:30";
    byLabel("Book call-back").click();
    expect(model.commands.at(-1)).toEqual({ name: "cmd_session_outcome", msg: { outcome: "call back", callback_at: "2026-05-02T10:30" } });
  });

  it("after a call asks for the outcome, starting from the suggestion, and saves it with the note", async () => {
    const { model, $, $$, byLabel } = mount(view({ status: "calling", call_sid: "CA1" }));
    expect(shown($(".twp-outcome-form"))).toBe(false);
    model.kernelSets({ session: view({ status: "outcome", call_sid: "CA1", suggested: "no answer" }) });
    expect(shown($(".twp-outcome-form"))).toBe(true);
    expect(byLabel("Call lead").disabled).toBe(true);
    expect(byLabel("Skip lead").disabled).toBe(true); // the outcome is required first
    expect($$(".twp-outcome input").filter((i) => (i as HTMLInputElement).checked).map((i) => (i as HTMLInputElement).value))
      .toEqual(["no answer"]);
    ($$(".twp-outcome input")[0] as HTMLInputElement).click();
    $<HTMLTextAreaElement>("[aria-label=Note]").value = "Spoke to Alan";
    byLabel("Save outcome").click();
    await Promise.resolve();
    expect(model.commands.at(-1)).toEqual({ name: "cmd_session_outcome", msg: { outcome: "connected", note: "Spoke to Alan" } });
  });

  it("asks for a time before saving a call-back outcome", () => {
    const { model, $, $$, byLabel } = mount(view({ status: "outcome", call_sid: "CA1" }));
    ($$(".twp-outcome input")[2] as HTMLInputElement).click();
    const when = $<HTMLInputElement>("[aria-label=\"Call back time (lead's time)\"]");
    expect(shown(when)).toBe(true);
    expect(byLabel("Save outcome").disabled).toBe(true);
    when.value = "2026-05-03T09:00";
    when.dispatchEvent(new Event("input"));
    expect(byLabel("Save outcome").disabled).toBe(false);
    expect(model.commands).toEqual([]);
  });

  it("dials the next lead after the countdown, unless cancelled", () => {
    vi.useFakeTimers();
    const { model, $, byLabel } = mount(view({ autodial: 3, countdown: 1 }));
    expect(shown($(".twp-countdown"))).toBe(false); // a panel drawn later never dials by itself
    model.kernelSets({ session: view({ autodial: 3, countdown: 2, lead: lead("Grace Hopper", "13") }) });
    expect($("[data-testid=countdown]").textContent).toBe("Calling Grace Hopper in 3 s");
    vi.advanceTimersByTime(3000);
    expect(model.commands.map((c) => c.name)).toEqual(["cmd_session_call"]);
    model.kernelSets({ session: view({ autodial: 3, countdown: 3 }) });
    byLabel("Cancel automatic call").click();
    vi.advanceTimersByTime(5000);
    expect(model.commands.map((c) => c.name)).toEqual(["cmd_session_call"]);
    expect(shown($(".twp-countdown"))).toBe(false);
  });

  it("says when nothing can be called now", () => {
    const { $ } = mount(view({ status: "done", lead: null, next: null, next_due: "2026-05-01T17:00:00+00:00" }));
    expect($("[data-testid=session-state]").textContent).toBe("No lead to call now");
    expect($("[data-testid=session-lead]").textContent).toContain("the next falls due at");
  });

  it("names a booked call-back beside the lead's clock", () => {
    expect(clockText(lead("A", "1", { callback_at: "2026-05-01T18:30:00+00:00" }))).toContain("call-back booked");
  });
});
