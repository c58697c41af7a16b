// @vitest-environment jsdom
// The caller's record (the element's "view") stays on screen for the whole call.
import { afterEach, describe, expect, it } from "vitest";
import { type Mounted, mountPanel, shown } from "./panel-harness";
import type { ContactCard, IncomingCall, State, Tab } from "./types";

const KATHERINE: ContactCard = {
  key: "104", name: "Katherine Johnson", position: 3, count: 5,
  fields: { name: "Katherine Johnson", company: "Orbital Mechanics", stage: "won" },
};
const RINGING: IncomingCall = {
  sid: "CA9", from: "+12025550143", display: "(202) 555-0143",
  contact: { ...KATHERINE, field: "mobile" },
};
const ANSWERED = {
  sid: "CA9", status: "in-progress", direction: "inbound" as const, remote: "+12025550143",
  remote_display: "(202) 555-0143", started_at: new Date().toISOString(), muted: false,
};
const ADA: ContactCard = {
  key: "101", name: "Ada Lovelace", position: 0, count: 5,
  fields: { name: "Ada Lovelace", company: "Analytical Engines", stage: "qualified" },
};

let mounted: Mounted[] = [];
afterEach(() => {
  mounted.forEach((m) => m.panel.destroy());
  mounted = [];
});

function mount(overrides: Partial<State> = {}): Mounted {
  const m = mountPanel(overrides);
  mounted.push(m);
  return m;
}

/** What cmd_accept does in the kernel, in its order: the call, the ringing record cleared,
 *  then the caller selected (their card, numbers and number). */
function kernelAccepts(model: Mounted["model"]): void {
  model.kernelSets({ call: ANSWERED });
  model.kernelSets({ incoming: null });
  model.kernelSets({
    contact: KATHERINE, selected_number: RINGING.from, selected_display: RINGING.display,
    numbers: [{ field: "mobile", label: "mobile", number: RINGING.from, display: RINGING.display }],
  });
}

const card = (m: Mounted) => m.panel.root.querySelector("[data-testid=call-card]");

describe("the caller's card during an accepted call", () => {
  it.each(["panel", "default"] as const)("stays on screen on every tab until hang-up (%s look)", async (look) => {
    const m = mount({ interpretation: look, tab: "messages" });
    m.model.kernelSets({ incoming: RINGING });
    m.$(".twp-accept").click();
    await Promise.resolve();
    kernelAccepts(m.model);
    expect(shown(card(m))).toBe(true);
    expect(card(m)!.textContent).toContain("Orbital Mechanics");
    for (const tab of ["numpad", "history", "messages"] as Tab[]) {
      m.model.kernelSets({ tab });
      expect(shown(card(m)), tab).toBe(true);
    }
    m.model.kernelSets({ call: { ...ANSWERED, status: "completed", end_reason: "completed", duration: 12 } });
    expect(shown(card(m))).toBe(false);
  });

  it("stays the caller's while the user steps to another contact during the call", () => {
    const m = mount();
    m.model.kernelSets({ incoming: RINGING });
    kernelAccepts(m.model);
    m.model.kernelSets({ contact: ADA, selected_number: "+14155550100", selected_display: "(415) 555-0100" });
    expect(card(m)!.textContent).toContain("Orbital Mechanics");
    expect(card(m)!.textContent).not.toContain("Analytical Engines");
  });

  it("is kept whichever of the call and the cleared ringing record arrives first", () => {
    const m = mount();
    m.model.kernelSets({ incoming: RINGING });
    m.model.kernelSets({ incoming: null });
    m.model.kernelSets({ call: ANSWERED });
    expect(shown(card(m))).toBe(true);
    expect(card(m)!.textContent).toContain("Orbital Mechanics");
  });

  it("is drawn by a panel displayed during the call", () => {
    const m = mount({ call: ANSWERED, contact: KATHERINE, selected_number: RINGING.from });
    expect(shown(card(m))).toBe(true);
    expect(card(m)!.textContent).toContain("Orbital Mechanics");
  });
});

describe("the card on outgoing calls", () => {
  it("shows the called contact's record, in both looks", () => {
    const m = mount({ contact: ADA });
    m.$("[data-testid=call-button]").click();
    m.model.kernelSets({ call: { sid: "CA1", status: "ringing", direction: "outbound", remote: "+14155550100" } });
    expect(shown(card(m))).toBe(true);
    expect(card(m)!.textContent).toContain("Analytical Engines");
    m.model.kernelSets({ interpretation: "default" });
    expect(shown(card(m))).toBe(true);
  });

  it("shows none for a number in no contact", () => {
    const m = mount({
      contact: { key: "", name: "Unknown number", fields: {}, position: 0, count: 5 },
      numbers: [], selected_number: "+12025550123",
    });
    m.model.kernelSets({ call: { sid: "CA1", status: "ringing", direction: "outbound", remote: "+12025550123" } });
    expect(shown(card(m))).toBe(false);
  });
});
