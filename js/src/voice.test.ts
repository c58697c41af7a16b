// @vitest-environment jsdom
import { describe, expect, it, vi } from "vitest";
import { Panel } from "./panel";
import { FakeModel, proxyOf } from "./testing";
import { cleanups, DIAL, Emitter, FakeCall, FakeDevice, settle, setUp } from "./voice-harness";
import { controllerFor, manageVoice } from "./widget";

describe("the Device's life", () => {
  it("asks the kernel for a token and registers once per model, however often it is drawn", async () => {
    const { model, devices, reports } = setUp();
    await settle();
    expect(model.commands.filter((c) => c.name === "cmd_token")).toHaveLength(1);
    expect(devices).toHaveLength(1);
    expect(devices[0].tokens).toEqual(["jwt-1"]);
    new Panel(model, model.invoke, () => controllerFor(model)).destroy();
    expect(devices).toHaveLength(1);
    devices[0].emit("registered");
    expect(reports("cmd_device_event")).toContainEqual({ status: "registering", identity: "alice" });
    expect(reports("cmd_device_event").at(-1)).toEqual({ status: "registered", error: null });
    expect(model.state.device).toMatchObject({ status: "registered", identity: "alice" });
  });

  it("writes no widget state: it reports, and the kernel writes", async () => {
    const model = new FakeModel({ mode: "twilio", call: {}, device: { status: "off" } });
    model.answers.cmd_token = () => ({ ok: true, token: "jwt", identity: "alice" });
    const devices: FakeDevice[] = [];
    cleanups.push(manageVoice(model, model.invoke, (token) => { devices.push(new FakeDevice(token)); return devices[0]; }));
    await settle();
    const set = vi.spyOn(model, "set");
    devices[0].emit("registered");
    devices[0].emit("error", { code: 31005, message: "Connection error" });
    model.kernelSends({ type: "twp:device", action: "dial", args: DIAL });
    await settle();
    devices[0].calls[0].emit("accept", devices[0].calls[0]);
    devices[0].calls[0].mute(true);
    devices[0].calls[0].disconnect();
    expect(set).not.toHaveBeenCalled();
    expect(model.saves).toBe(0);
    expect(new Set(model.commands.map((c) => c.name))).toEqual(new Set(["cmd_token", "cmd_device_event", "cmd_call_event"]));
  });

  it("is destroyed with the model, and when the phone leaves twilio mode", async () => {
    const first = setUp();
    await settle();
    first.model.kernelSets({ mode: "sandbox" });
    expect(first.devices[0].destroyed).toBe(true);
    const second = setUp();
    await settle();
    second.stop();
    expect(second.devices[0].destroyed).toBe(true);
  });

  it("closes the Device during a call even when the model is already gone (the cell re-run)", async () => {
    const { model, devices, $, stop, reports } = setUp();
    await settle();
    $("[data-testid=call-button]").click();
    await settle();
    devices[0].calls[0].emit("accept", devices[0].calls[0]);
    const reported = reports().length;
    model.invoke = async () => { throw new Error("no comm channel defined"); };
    expect(() => stop()).not.toThrow();
    expect(devices[0].destroyed).toBe(true);
    expect(devices[0].calls[0].disconnected).toBe(true);
    expect(reports()).toHaveLength(reported); // nothing reported after the end
    expect(model.saves).toBe(0);
  });

  it("starts no Device on the sandbox", async () => {
    const { model, devices } = setUp("sandbox");
    await settle();
    expect(devices).toHaveLength(0);
    expect(model.commands).toHaveLength(0);
  });

  it("renews the token before it expires, between calls", async () => {
    const { devices, $ } = setUp();
    await settle();
    devices[0].emit("tokenWillExpire");
    await settle();
    expect(devices[0].tokens).toEqual(["jwt-1", "jwt-2"]);
    $("[data-testid=call-button]").click();
    await settle();
    devices[0].emit("tokenWillExpire");
    await settle();
    expect(devices[0].tokens).toEqual(["jwt-1", "jwt-2"]);
    devices[0].calls[0].disconnect();
    await settle(); // the end is settled a microtask later (an error of the same call wins)
    expect(devices[0].tokens).toEqual(["jwt-1", "jwt-2", "jwt-3"]);
  });

  it("shows a token the kernel cannot mint", async () => {
    const model = new FakeModel({ mode: "twilio", device: { status: "off" } });
    model.answers.cmd_token = () => ({ ok: false, error: { message: "app_sid: not set", code: null } });
    const factory = vi.fn();
    cleanups.push(manageVoice(model, model.invoke, factory));
    await settle();
    expect(factory).not.toHaveBeenCalled();
    expect(model.commands.at(-1)).toEqual({
      name: "cmd_device_event", msg: { status: "error", error: { message: "app_sid: not set", code: null } },
    });
  });
});

describe("outgoing calls", () => {
  it("dials what the kernel approved and reports the call to its end", async () => {
    const { model, devices, $, reports } = setUp();
    await settle();
    $("[data-testid=call-button]").click();
    await settle();
    expect(model.commands.find((c) => c.name === "cmd_call")).toBeDefined();
    expect(devices[0].connects).toEqual([DIAL]);
    const call = devices[0].calls[0];
    call.emit("ringing", false);
    call.emit("accept", call);
    model.kernelSets({ call: { sid: "CA1", status: "in-progress", direction: "outbound", remote: DIAL.To } });
    $(".twp-key[data-key='7']").click();
    expect(call.sent).toEqual(["7"]);
    $(".twp-mute").click();
    expect(call.muted).toBe(true);
    $("[data-testid=callbar-hangup]").click();
    expect(call.disconnected).toBe(true);
    await settle();
    expect(reports()).toEqual([
      { sid: "pending", status: "connecting", direction: "outbound", remote: DIAL.To },
      { sid: "CA1", status: "ringing" },
      { sid: "CA1", status: "in-progress" },
      { sid: "CA1", digits: "7" },
      { sid: "CA1", muted: true },
      { sid: "CA1", status: "completed" },
    ]);
  });

  it("reports a call Twilio refused, with the code and a hint", async () => {
    const { devices, $, reports } = setUp();
    await settle();
    $("[data-testid=call-button]").click();
    await settle();
    devices[0].calls[0].emit("error", { code: 31486, message: "Busy Here" });
    expect(reports().at(-1)).toEqual({ sid: "CA1", status: "failed" });
    expect(reports("cmd_device_event").at(-1)).toMatchObject({ error: { code: 31486, hint: "The callee is busy." } });
    expect($("[data-testid=error-text]").textContent).toContain("31486");
  });

  it("reports a call that failed on a refused microphone as failed, not canceled", async () => {
    const { devices, $, reports } = setUp();
    await settle();
    $("[data-testid=call-button]").click();
    await settle();
    const call = devices[0].calls[0];
    call.emit("disconnect", call); // the SDK's order: the call is closed, then the error is emitted
    call.emit("error", { code: 31401, message: "Permission denied" });
    await settle();
    expect(reports().filter((r) => r.status && r.status !== "connecting")).toEqual([{ sid: "CA1", status: "failed" }]);
  });

  it("reports a dial it cannot make: no Device yet", async () => {
    const model = new FakeModel({ mode: "twilio", device: { status: "off" } });
    model.answers.cmd_token = () => ({ ok: false, error: { message: "no token", code: null } });
    cleanups.push(manageVoice(model, model.invoke, vi.fn()));
    await settle();
    model.kernelSends({ type: "twp:device", action: "dial", args: DIAL });
    await settle();
    const calls = model.commands.filter((c) => c.name === "cmd_call_event").map((c) => c.msg);
    expect(calls.at(-1)).toEqual({ sid: "pending", status: "failed" });
    expect(model.commands.at(-1)?.msg).toMatchObject({ error: { message: "The phone is not connected to Twilio yet" } });
  });
});

describe("the kernel's requests (a call placed and controlled from a cell)", () => {
  it("dials, mutes, sends digits and hangs up when the kernel asks, and reports each", async () => {
    const { model, devices, reports } = setUp();
    await settle();
    model.kernelSends({ type: "twp:device", action: "dial", args: { To: "+14155550101", CallerId: "+15005550006" } });
    await settle();
    expect(devices[0].connects).toEqual([{ To: "+14155550101", CallerId: "+15005550006" }]);
    const call = devices[0].calls[0];
    call.emit("accept", call);
    model.kernelSends({ type: "twp:device", action: "mute", args: { muted: true } });
    model.kernelSends({ type: "twp:device", action: "digits", args: { digits: "1" } });
    model.kernelSends({ type: "twp:device", action: "hang_up", args: {} });
    expect([call.muted, call.sent, call.disconnected]).toEqual([true, ["1"], true]);
    await settle();
    expect(reports()).toEqual([
      { sid: "pending", status: "connecting", direction: "outbound", remote: "+14155550101" },
      { sid: "CA1", status: "in-progress" },
      { sid: "CA1", muted: true },
      { sid: "CA1", digits: "1" },
      { sid: "CA1", status: "completed" },
    ]);
  });

  it("leaves other messages alone, and answers nothing once destroyed", async () => {
    const { model, devices, stop } = setUp();
    await settle();
    model.kernelSends({ type: "twp:response", id: "x", ok: true, result: {} });
    model.kernelSends({ type: "something-else", action: "dial", args: DIAL });
    expect(devices[0].connects).toEqual([]);
    stop();
    model.kernelSends({ type: "twp:device", action: "dial", args: DIAL });
    await settle();
    expect(devices[0].connects).toEqual([]);
  });
});

describe("incoming calls", () => {
  it("rings through the kernel's contact match and accepts in the browser", async () => {
    const { model, devices, reports } = setUp();
    await settle();
    const call = new FakeCall({ CallSid: "CA77", From: "+12025550143" });
    devices[0].emit("incoming", call);
    await settle();
    expect(model.commands).toContainEqual({ name: "cmd_incoming", msg: { sid: "CA77", from: "+12025550143" } });
    model.kernelSets({ incoming: { sid: "CA77", from: "+12025550143", display: "(202) 555-0143", contact: null } });
    const panel = document.querySelector<HTMLElement>(".twp-incoming:not([hidden])")!;
    panel.querySelector<HTMLElement>(".twp-accept")!.click();
    await settle();
    expect(call.accepted).toBe(true);
    const names = model.commands.map((c) => c.name);
    // The Device's report comes first: the kernel knows the call before it selects the caller.
    expect(names.lastIndexOf("cmd_call_event")).toBeLessThan(names.indexOf("cmd_accept"));
    expect(model.commands).toContainEqual({ name: "cmd_accept", msg: { sid: "CA77" } });
    expect(reports()).toContainEqual({ sid: "CA77", status: "in-progress", direction: "inbound", remote: "+12025550143" });
  });

  it("tells the kernel when the caller gives up, and rejects a second call while busy", async () => {
    const { model, devices } = setUp();
    await settle();
    const first = new FakeCall({ CallSid: "CA1", From: "+1" });
    devices[0].emit("incoming", first);
    const second = new FakeCall({ CallSid: "CA2", From: "+2" });
    devices[0].emit("incoming", second);
    expect(second.rejected).toBe(true);
    first.emit("cancel");
    await settle();
    expect(model.commands).toContainEqual({ name: "cmd_incoming_ended", msg: { sid: "CA1" } });
  });
});

describe("errors and audio", () => {
  it.each([
    [31401, "error", /allow it/],
    [31402, "error", /No microphone/],
    [20101, "error", /token was refused/],
    [31000, "offline", /keeps retrying/],
  ])("error %i leaves the device %s with a hint", async (code, status, hint) => {
    const { model, devices, $, reports } = setUp();
    await settle();
    devices[0].emit("error", { code, message: `SDK error ${code}` });
    expect(reports("cmd_device_event").at(-1)).toMatchObject({ status, error: { code } });
    expect(model.state.error?.code).toBe(code);
    expect($(".twp-error-hint").textContent).toMatch(hint);
  });

  it("stays registered through an error that does not unregister it", async () => {
    const { devices, reports } = setUp();
    await settle();
    devices[0].emit("registered");
    devices[0].emit("error", { code: 31486, message: "Busy Here" });
    expect(reports("cmd_device_event").at(-1)).toMatchObject({ status: "registered", error: { code: 31486 } });
  });

  it("renews an expired token at once", async () => {
    const { devices } = setUp();
    await settle();
    devices[0].emit("error", { code: 20104, message: "Access token expired" });
    await settle();
    expect(devices[0].tokens).toEqual(["jwt-1", "jwt-2"]);
    devices[0].emit("error", { code: 20101, message: "Invalid access token" });
    await settle();
    expect(devices[0].tokens).toEqual(["jwt-1", "jwt-2"]);
  });

  it("says it is offline while Twilio cannot be reached", async () => {
    const { devices, $ } = setUp();
    await settle();
    devices[0].emit("error", { code: 31005, message: "Connection error" });
    expect($("[data-testid=mode-banner]").textContent).toMatch(/Offline/);
    devices[0].emit("registered");
    expect($("[data-testid=mode-banner]").hidden).toBe(true);
  });

  it("lists microphones and speakers and switches them", async () => {
    const { devices, $, reports } = setUp();
    await settle();
    $(".twp-audio-toggle").click();
    const mic = $(".twp-audio-select[aria-label=Microphone]") as HTMLSelectElement;
    expect([...mic.options].map((o) => o.textContent)).toEqual(["Fake mic", "Headset mic"]);
    mic.dispatchEvent(new Event("change"));
    expect(devices[0].audio!.setInputDevice).toHaveBeenCalledWith("mic1");
    const speaker = $(".twp-audio-select[aria-label=Speaker]") as HTMLSelectElement;
    speaker.dispatchEvent(new Event("change"));
    expect(devices[0].audio!.speakerDevices.set).toHaveBeenCalledWith("spk1");
    await settle();
    expect(reports("cmd_device_event").slice(-2)).toEqual([{ input: "mic1" }, { output: "spk1" }]);
  });

  it("keeps the chosen microphone and speaker shown through later state changes", async () => {
    const { model, devices, $ } = setUp();
    await settle();
    $(".twp-audio-toggle").click();
    const choose = (label: string, id: string) => {
      const select = $(`.twp-audio-select[aria-label=${label}]`) as HTMLSelectElement;
      select.value = id;
      select.dispatchEvent(new Event("change"));
    };
    choose("Microphone", "mic2");
    choose("Speaker", "spk2");
    await settle();
    expect(devices[0].audio!.setInputDevice).toHaveBeenLastCalledWith("mic2");
    model.kernelSets({ tab: "history", selected_number: "+442079460018" });
    devices[0].audio!.availableInputDevices.set("mic3", { deviceId: "mic3", label: "USB mic" } as MediaDeviceInfo);
    (devices[0].audio as unknown as Emitter).emit("deviceChange");
    expect(($(".twp-audio-select[aria-label=Microphone]") as HTMLSelectElement).value).toBe("mic2");
    expect(($(".twp-audio-select[aria-label=Speaker]") as HTMLSelectElement).value).toBe("spk2");
  });
});
