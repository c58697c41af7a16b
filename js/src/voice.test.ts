// @vitest-environment jsdom
import { afterEach, describe, expect, it, vi } from "vitest";
import { Panel } from "./panel";
import { FakeModel, proxyOf } from "./testing";
import type { SdkAudio, SdkCall, SdkDevice } from "./voice";
import { controllerFor, manageVoice } from "./widget";

type Listener = (...args: any[]) => void;

class Emitter {
  listeners = new Map<string, Listener[]>();
  on(event: string, listener: Listener) {
    this.listeners.set(event, [...(this.listeners.get(event) ?? []), listener]);
    return this;
  }
  emit(event: string, ...args: unknown[]) {
    for (const l of this.listeners.get(event) ?? []) l(...args);
  }
}

class FakeCall extends Emitter implements SdkCall {
  muted = false;
  sent: string[] = [];
  accepted = false;
  rejected = false;
  disconnected = false;
  constructor(public parameters: Record<string, string>) { super(); }
  accept() { this.accepted = true; this.emit("accept", this); }
  reject() { this.rejected = true; this.emit("reject"); }
  disconnect() { this.disconnected = true; this.emit("disconnect", this); }
  mute(m = true) { this.muted = m; this.emit("mute", m, this); }
  isMuted() { return this.muted; }
  sendDigits(d: string) { this.sent.push(d); }
}

class FakeDevice extends Emitter implements SdkDevice {
  state = "unregistered";
  tokens: string[] = [];
  connects: Record<string, string>[] = [];
  calls: FakeCall[] = [];
  destroyed = false;
  registerResult: Promise<void> = Promise.resolve();
  audio: SdkAudio = Object.assign(new Emitter(), {
    availableInputDevices: new Map([
      ["mic1", { deviceId: "mic1", label: "Fake mic" } as MediaDeviceInfo],
      ["mic2", { deviceId: "mic2", label: "Headset mic" } as MediaDeviceInfo],
    ]),
    availableOutputDevices: new Map([
      ["spk1", { deviceId: "spk1", label: "Fake speaker" } as MediaDeviceInfo],
      ["spk2", { deviceId: "spk2", label: "Headset" } as MediaDeviceInfo],
    ]),
    isOutputSelectionSupported: true,
    setInputDevice: vi.fn(async () => {}),
    speakerDevices: { set: vi.fn(async () => {}) },
  });
  constructor(token: string) { super(); this.tokens.push(token); }
  register() { this.emit("registering"); return this.registerResult; }
  async connect({ params }: { params: Record<string, string> }) {
    this.connects.push(params);
    const call = new FakeCall({ CallSid: `CA${this.calls.length + 1}` });
    this.calls.push(call);
    return call;
  }
  updateToken(token: string) { this.tokens.push(token); }
  // As the SDK's: calls are ended (their listeners run) before the signalling socket closes.
  destroy() {
    for (const call of this.calls) if (!call.disconnected) call.disconnect();
    this.destroyed = true;
  }
}

function setUp(mode: "twilio" | "sandbox" = "twilio") {
  const model = new FakeModel({ mode, call: {}, device: { status: "off" } });
  let tokens = 0;
  model.answers.cmd_token = () => ({ ok: true, token: `jwt-${++tokens}`, identity: "alice" });
  model.answers.cmd_call = () => ({ ok: true, dial: { To: "+14155550100", CallerId: "+15005550006" } });
  const devices: FakeDevice[] = [];
  const stop = manageVoice(proxyOf(model), model.invoke, (token) => {
    const d = new FakeDevice(token);
    devices.push(d);
    return d;
  });
  const view = proxyOf(model);
  const panel = new Panel(view, model.invoke, () => controllerFor(view));
  document.body.append(panel.root);
  cleanups.push(() => { stop(); panel.destroy(); });
  const $ = (sel: string) => panel.root.querySelector<HTMLElement>(sel)!;
  return { model, devices, panel, $, stop };
}

const cleanups: (() => void)[] = [];
afterEach(() => { cleanups.splice(0).forEach((c) => c()); });
const settle = () => new Promise((r) => setTimeout(r, 0));

describe("the Device's life", () => {
  it("asks the kernel for a token and registers once per model, however often it is drawn", async () => {
    const { model, devices } = setUp();
    await settle();
    expect(model.commands.filter((c) => c.name === "cmd_token")).toHaveLength(1);
    expect(devices).toHaveLength(1);
    expect(devices[0].tokens).toEqual(["jwt-1"]);
    new Panel(model, model.invoke, () => controllerFor(model)).destroy();
    expect(devices).toHaveLength(1);
    devices[0].emit("registered");
    expect(model.state.device.status).toBe("registered");
    expect(model.state.device.identity).toBe("alice");
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
    const { model, devices, $, stop } = setUp();
    await settle();
    $("[data-testid=call-button]").click();
    await settle();
    devices[0].calls[0].emit("accept", devices[0].calls[0]);
    const saves = model.saves;
    model.save_changes = () => { throw new Error("no comm channel defined"); };
    expect(() => stop()).not.toThrow();
    expect(devices[0].destroyed).toBe(true);
    expect(devices[0].calls[0].disconnected).toBe(true);
    expect(model.saves).toBe(saves);
    expect(model.commands.filter((c) => c.name === "cmd_call_ended")).toHaveLength(0);
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
    expect(devices[0].tokens).toEqual(["jwt-1", "jwt-2", "jwt-3"]);
  });

  it("shows a token the kernel cannot mint", async () => {
    const model = new FakeModel({ mode: "twilio", device: { status: "off" } });
    model.answers.cmd_token = () => ({ ok: false, error: { message: "app_sid: not set", code: null } });
    const factory = vi.fn();
    cleanups.push(manageVoice(model, model.invoke, factory));
    await settle();
    expect(factory).not.toHaveBeenCalled();
    expect(model.state.device).toMatchObject({ status: "error", error: { message: "app_sid: not set" } });
  });
});

describe("outgoing calls", () => {
  it("dials what the kernel approved and follows the call to its end", async () => {
    const { model, devices, $ } = setUp();
    await settle();
    $("[data-testid=call-button]").click();
    await settle();
    expect(devices[0].connects).toEqual([{ To: "+14155550100", CallerId: "+15005550006" }]);
    const call = devices[0].calls[0];
    call.emit("ringing", false);
    expect($("[data-testid=call-status]").textContent).toBe("Ringing…");
    call.emit("accept", call);
    expect(model.state.call).toMatchObject({ sid: "CA1", status: "in-progress", direction: "outbound" });
    $(".twp-key[data-key='7']").click();
    expect(call.sent).toEqual(["7"]);
    $(".twp-mute").click();
    expect(call.muted).toBe(true);
    expect(model.state.call.muted).toBe(true);
    $("[data-testid=callbar-hangup]").click();
    expect(call.disconnected).toBe(true);
    expect(model.state.call.status).toBe("completed");
    await settle();
    expect(model.commands.at(-1)).toEqual({ name: "cmd_call_ended", msg: { sid: "CA1", status: "completed" } });
  });

  it("keeps how the lead's leg ended when the kernel told it first", async () => {
    const { model, devices, $ } = setUp();
    await settle();
    $("[data-testid=call-button]").click();
    await settle();
    const call = devices[0].calls[0];
    call.emit("accept", call);
    model.kernelSets({ call: { ...model.state.call, status: "no-answer", end_reason: "no-answer" } });
    call.emit("disconnect", call);
    expect(model.state.call.status).toBe("no-answer");
  });

  it("reports a call Twilio refused, with the code and a hint", async () => {
    const { model, devices, $ } = setUp();
    await settle();
    $("[data-testid=call-button]").click();
    await settle();
    devices[0].calls[0].emit("error", { code: 31486, message: "Busy Here" });
    expect(model.state.call.status).toBe("failed");
    expect($("[data-testid=error-text]").textContent).toContain("31486");
  });
});

describe("incoming calls", () => {
  it("rings through the kernel's contact match and accepts in the browser", async () => {
    const { model, devices } = setUp();
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
    expect(model.commands).toContainEqual({ name: "cmd_accept", msg: { sid: "CA77" } });
    expect(model.state.call).toMatchObject({ sid: "CA77", status: "in-progress", direction: "inbound" });
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
    const { model, devices, $ } = setUp();
    await settle();
    devices[0].emit("error", { code, message: `SDK error ${code}` });
    expect(model.state.device.status).toBe(status);
    expect(model.state.error?.code).toBe(code);
    expect($(".twp-error-hint").textContent).toMatch(hint);
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
    const { devices, $ } = setUp();
    await settle();
    $(".twp-audio-toggle").click();
    const mic = $(".twp-audio-select[aria-label=Microphone]") as HTMLSelectElement;
    expect([...mic.options].map((o) => o.textContent)).toEqual(["Fake mic", "Headset mic"]);
    mic.dispatchEvent(new Event("change"));
    expect(devices[0].audio!.setInputDevice).toHaveBeenCalledWith("mic1");
    const speaker = $(".twp-audio-select[aria-label=Speaker]") as HTMLSelectElement;
    speaker.dispatchEvent(new Event("change"));
    expect(devices[0].audio!.speakerDevices.set).toHaveBeenCalledWith("spk1");
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
