// @vitest-environment jsdom
// Call quality in browser calls: the warning chips, the level meters, the summary the kernel
// keeps, the preflight test, and a registration kept alive through a long session.
import { afterEach, describe, expect, it, vi } from "vitest";
import { HIDDEN_MS, refreshDelayMs, STALE_MS } from "./keepalive";
import { QUALITY_REPORT_MS } from "./quality";
import { WARNING_HINTS, WARNING_LABELS } from "./sdk";
import { VOCABULARY } from "./vocabulary";
import { settle, setUp } from "./voice-harness";

const WARNINGS = VOCABULARY.call_quality_warnings;
const flush = () => vi.advanceTimersByTimeAsync(0);

/** A phone whose Device placed a call that is now connected. */
async function inCall(tick: () => Promise<unknown> = settle) {
  const phone = setUp();
  await tick();
  phone.devices[0].emit("registered");
  phone.$("[data-testid=call-button]").click();
  await tick();
  const call = phone.devices[0].calls[0];
  call.emit("accept", call);
  phone.model.kernelSets({ call: { sid: "CA1", status: "in-progress", direction: "outbound" } });
  return { ...phone, call };
}

const chips = (root: HTMLElement) =>
  [...root.querySelectorAll<HTMLElement>("[data-testid=quality-warning]")].map((c) => c.dataset.warning);

afterEach(() => {
  vi.useRealTimers();
});

describe("warnings while they last", () => {
  it("has a label and a plain hint for every warning the kernel knows", () => {
    expect(Object.keys(WARNING_HINTS).sort()).toEqual([...WARNINGS].sort());
    expect(Object.keys(WARNING_LABELS).sort()).toEqual([...WARNINGS].sort());
  });

  it.each(WARNINGS)("shows %s as a chip with its hint until it clears", async (name) => {
    const { call, panel } = await inCall();
    call.emit("warning", name, {});
    const chip = panel.root.querySelector<HTMLElement>(`[data-warning="${name}"]`)!;
    expect(chip.textContent).toContain(WARNING_LABELS[name]);
    expect(chip.textContent).toContain(WARNING_HINTS[name]);
    call.emit("warning-cleared", name);
    expect(chips(panel.root)).toEqual([]);
  });

  it("says the microphone seems silent, and keeps several warnings apart", async () => {
    const { call, panel } = await inCall();
    call.emit("warning", "constant-audio-input-level", {});
    call.emit("warning", "high-rtt", {});
    expect(chips(panel.root)).toEqual(["constant-audio-input-level", "high-rtt"]);
    expect(panel.root.textContent).toContain("Your microphone seems silent");
    call.emit("warning-cleared", "high-rtt");
    expect(chips(panel.root)).toEqual(["constant-audio-input-level"]);
  });

  it("clears the chips when the call ends and reports what was seen with the end", async () => {
    const { call, panel, reports } = await inCall();
    call.emit("warning", "high-jitter", {});
    call.disconnect();
    await Promise.resolve(); // the end is settled a microtask later
    expect(chips(panel.root)).toEqual([]);
    expect(reports().at(-1)).toMatchObject({ sid: "CA1", status: "completed",
      quality: { warnings: [], seen: ["high-jitter"] } });
  });
});

describe("level meters", () => {
  it("follows the Call's volume events in the page and tells the kernel nothing of them", async () => {
    const { call, $, reports } = await inCall();
    const before = reports().length;
    for (let i = 0; i < 60; i++) call.emit("volume", 0.42, 0.1);
    expect($("[data-testid=mic-level]").getAttribute("aria-valuenow")).toBe("42");
    expect($("[data-testid=speaker-level]").getAttribute("aria-valuenow")).toBe("10");
    expect($("[data-testid=mic-level]").getAttribute("aria-label")).toBe("Microphone level");
    expect(reports().length).toBe(before);
  });
});

describe("the quality summary", () => {
  it("keeps the worst of each sample and reports it at most every few seconds", async () => {
    vi.useFakeTimers();
    const { call, reports } = await inCall(flush);
    const quality = () => reports().filter((r) => r.quality).map((r) => r.quality);
    call.emit("sample", { mos: 4.3, rtt: 80, jitter: 5, packetsLostFraction: 0 });
    call.emit("sample", { mos: 3.2, rtt: 250, jitter: 30, packetsLostFraction: 0.02 });
    call.emit("sample", { mos: 4.1, rtt: 100, jitter: 8, packetsLostFraction: 0.01 });
    expect(quality()).toHaveLength(1); // the first at once, the rest wait
    await vi.advanceTimersByTimeAsync(QUALITY_REPORT_MS);
    expect(quality()).toHaveLength(2);
    expect(quality().at(-1)).toEqual({ warnings: [], seen: [], samples: 3, mos: 3.2, rtt: 250, jitter: 30,
      packet_loss: 0.02 });
    call.emit("sample", { mos: null, rtt: 90, jitter: 4, packetsLostFraction: 0 });
    call.disconnect();
    await Promise.resolve(); // the end is settled a microtask later
    expect(quality()).toHaveLength(3); // the end carries the last summary at once
    await vi.advanceTimersByTimeAsync(QUALITY_REPORT_MS * 3);
    expect(quality()).toHaveLength(3); // and nothing trails after it
    expect(quality().at(-1)).toMatchObject({ samples: 4, mos: 3.2 });
  });
});

describe("the preflight test", () => {
  const REPORT = {
    callSid: "CA9", edge: "ashburn", callQuality: "great", warnings: [{ name: "high-rtt", description: "" }],
    stats: { mos: { average: 4.234, min: 3.9, max: 4.4 }, rtt: { average: 81.26, min: 1, max: 90 },
      jitter: { average: 2.04, min: 0, max: 5 } },
  };

  it("runs when the kernel asks, with a token of its own and the phone's options, and reports back", async () => {
    const phone = setUp();
    phone.model.answers.cmd_token = () => ({ ok: true, token: "jwt-p", identity: "alice", ttl: 3600,
      options: { edge: ["dublin", "roaming"], codecs: ["pcmu"] } });
    phone.model.answers.cmd_preflight_report = () => ({ ok: true, verdict: "good", advice: "Calls should sound fine." });
    await settle();
    expect(phone.devices[0].options).toEqual({ edge: [], codecs: ["opus", "pcmu"] }); // none given: the defaults
    phone.model.kernelSends({ type: "twp:device", action: "preflight", args: { id: "run1" } });
    await settle();
    const [test] = phone.preflights;
    expect(test.token).toBe("jwt-p");
    expect(test.options).toEqual({ edge: ["dublin", "roaming"], codecs: ["pcmu"] });
    test.emit("connected");
    test.emit("sample", {});
    test.emit("sample", {});
    expect(phone.$("[data-testid=preflight-status]").textContent).toContain("Testing the connection… 2 s");
    test.emit("completed", REPORT);
    await settle();
    expect(phone.reports("cmd_preflight_report")).toEqual([{
      id: "run1", status: "completed", edge: "ashburn", call_sid: "CA9", mos: 4.23, mos_min: 3.9, rtt: 81.3,
      jitter: 2, call_quality: "great", warnings: ["high-rtt"], error: null,
    }]);
    expect(phone.$("[data-testid=preflight-status]").textContent).toBe(
      "Connection test: good. Calls should sound fine.");
  });

  it("reports a test that failed, with the SDK's code", async () => {
    const phone = setUp();
    await settle();
    phone.model.kernelSends({ type: "twp:device", action: "preflight", args: { id: "run2" } });
    await settle();
    phone.preflights[0].emit("failed", { code: 31000, message: "Cannot connect" });
    await settle();
    expect(phone.reports("cmd_preflight_report")[0]).toMatchObject({
      id: "run2", status: "failed", mos: null, error: { message: "Cannot connect", code: 31000 } });
  });

  it("refuses a second test while one runs, leaving the first on the panel", async () => {
    const phone = setUp();
    await settle();
    phone.model.kernelSends({ type: "twp:device", action: "preflight", args: { id: "run1" } });
    await settle();
    phone.preflights[0].emit("connected");
    phone.model.kernelSends({ type: "twp:device", action: "preflight", args: { id: "run2" } });
    await settle();
    expect(phone.preflights).toHaveLength(1);
    expect(phone.reports("cmd_preflight_report")).toMatchObject([{ id: "run2", status: "failed",
      error: { message: "A preflight test is already running" } }]);
    expect(phone.$("[data-testid=preflight-status]").textContent).toContain("Testing the connection");
  });

  it("is offered after a failed call, through the kernel", async () => {
    const phone = setUp();
    await settle();
    const button = phone.$("[data-testid=preflight]");
    expect(button.hidden).toBe(true);
    phone.model.kernelSets({ call: { sid: "CA1", status: "failed" } });
    expect(button.hidden).toBe(false);
    expect(button.textContent).toBe("Test my connection");
    button.click();
    await settle();
    expect(phone.model.commands.map((c) => c.name)).toContain("cmd_preflight");
  });

  it("is offered after a call that sounded poor", async () => {
    const phone = setUp();
    await settle();
    phone.model.kernelSets({ call: { sid: "CA1", status: "completed",
      quality: { warnings: [], seen: ["low-mos"], samples: 9, mos: 2.9, rtt: 300, jitter: 40, packet_loss: 0.05 } } });
    expect(phone.$("[data-testid=preflight]").hidden).toBe(false);
  });
});

describe("long sessions", () => {
  it("renews the token on its own schedule from the TTL, for hours, and between calls", async () => {
    vi.useFakeTimers();
    const phone = setUp();
    let issued = 0;
    phone.model.answers.cmd_token = () => ({ ok: true, token: `renewed-${++issued}`, identity: "alice", ttl: 3600 });
    await flush();
    const device = phone.devices[0];
    device.emit("registered");
    expect(device.tokens).toEqual(["jwt-1"]);
    await vi.advanceTimersByTimeAsync(refreshDelayMs(3600) - 1000);
    expect(device.tokens).toEqual(["jwt-1"]); // not yet
    await vi.advanceTimersByTimeAsync(1000);
    expect(device.tokens).toEqual(["jwt-1", "renewed-1"]);
    // Eight hours on: a renewal every 45 minutes, without the SDK's tokenWillExpire.
    await vi.advanceTimersByTimeAsync(8 * 3600_000);
    expect(device.tokens).toHaveLength(2 + Math.floor((8 * 3600_000) / refreshDelayMs(3600)));
    // During a call the new token waits for the call to end.
    phone.$("[data-testid=call-button]").click();
    await flush();
    const count = device.tokens.length;
    await vi.advanceTimersByTimeAsync(refreshDelayMs(3600));
    expect(device.tokens).toHaveLength(count);
    device.calls[0].disconnect();
    await Promise.resolve(); // the end is settled a microtask later
    expect(device.tokens).toHaveLength(count + 1);
  });

  it("schedules from the TTL the kernel hands out", () => {
    expect(refreshDelayMs(3600)).toBe(2700_000);
    expect(refreshDelayMs(600)).toBe(450_000);
  });

  it("registers again when the page becomes visible after long, or with its registration gone", async () => {
    vi.useFakeTimers();
    const phone = setUp();
    await flush();
    const device = phone.devices[0];
    const register = vi.spyOn(device, "register");
    const unregister = vi.spyOn(device, "unregister");
    const visibility = vi.spyOn(document, "visibilityState", "get");
    const show = (state: "visible" | "hidden") => {
      visibility.mockReturnValue(state);
      document.dispatchEvent(new Event("visibilitychange"));
    };
    device.state = "registered";
    show("hidden");
    await vi.advanceTimersByTimeAsync(HIDDEN_MS - 1000);
    show("visible");
    expect(register).not.toHaveBeenCalled(); // a short absence: nothing to do
    show("hidden");
    await vi.advanceTimersByTimeAsync(HIDDEN_MS);
    show("visible");
    await flush();
    expect([unregister.mock.calls.length, register.mock.calls.length]).toEqual([1, 1]); // registered afresh
    device.state = "unregistered";
    show("hidden");
    show("visible");
    expect(register).toHaveBeenCalledTimes(2); // gone: registered at once
    phone.$("[data-testid=call-button]").click();
    await flush();
    show("hidden");
    await vi.advanceTimersByTimeAsync(HIDDEN_MS);
    show("visible");
    expect(register).toHaveBeenCalledTimes(2); // never during a call
    visibility.mockRestore();
  });

  it("says when the registration lapsed for long, and offers bridge mode through the kernel", async () => {
    vi.useFakeTimers();
    const phone = setUp();
    await flush();
    const device = phone.devices[0];
    device.emit("registered");
    device.state = "unregistered";
    await vi.advanceTimersByTimeAsync(STALE_MS - 30_000);
    expect(phone.reports("cmd_device_event").map((r) => r.status)).not.toContain("stale");
    const register = vi.spyOn(device, "register");
    await vi.advanceTimersByTimeAsync(60_000);
    expect(phone.reports("cmd_device_event").map((r) => r.status)).toContain("stale");
    expect(register).toHaveBeenCalled();
    phone.model.kernelSets({ device: { status: "stale", bridge_offer: { number: "+12025550143", display: "(202) 555-0143" } } });
    expect(phone.$("[data-testid=mode-banner]").textContent).toContain("Not registered for a while");
    expect(phone.$("[data-testid=use-bridge]").textContent).toContain("(202) 555-0143");
  });

  it("leaves a Device Twilio refused to its error, not to the watchdog", async () => {
    vi.useFakeTimers();
    const phone = setUp();
    await flush();
    phone.devices[0].emit("error", { code: 20101, message: "Invalid token" });
    await vi.advanceTimersByTimeAsync(STALE_MS * 3);
    expect(phone.reports("cmd_device_event").map((r) => r.status)).not.toContain("stale");
    expect(phone.model.state.device.status).toBe("error");
  });

  it("asks before the tab closes during a call, and only then", async () => {
    const { call } = await inCall();
    const during = new Event("beforeunload", { cancelable: true });
    window.dispatchEvent(during);
    expect(during.defaultPrevented).toBe(true);
    call.disconnect();
    await Promise.resolve(); // the end is settled a microtask later
    const after = new Event("beforeunload", { cancelable: true });
    window.dispatchEvent(after);
    expect(after.defaultPrevented).toBe(false);
  });
});
