// The Voice SDK's Device and Call as fakes, and a phone in twilio mode built on them with a
// stand-in for the kernel's side: what the browser-calling tests share.

import { afterEach, vi } from "vitest";
import { Panel } from "./panel";
import { FakeModel, proxyOf } from "./testing";
import type { DeviceState } from "./types";
import type { PreflightFactory, SdkAudio, SdkCall, SdkDevice, SdkPreflight } from "./sdk";
import { controllerFor, manageVoice } from "./widget";

type Listener = (...args: any[]) => void;

export class Emitter {
  listeners = new Map<string, Listener[]>();
  on(event: string, listener: Listener) {
    this.listeners.set(event, [...(this.listeners.get(event) ?? []), listener]);
    return this;
  }
  emit(event: string, ...args: unknown[]) {
    for (const l of this.listeners.get(event) ?? []) l(...args);
  }
}

export class FakeCall extends Emitter implements SdkCall {
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

export class FakeDevice extends Emitter implements SdkDevice {
  state = "unregistered";
  tokens: string[] = [];
  connects: Record<string, string>[] = [];
  calls: FakeCall[] = [];
  destroyed = false;
  options: unknown = null;
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
  async unregister() { this.state = "unregistered"; this.emit("unregistered"); }
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

/** The SDK's PreflightTest: the test drives it by emitting its events. */
export class FakePreflight extends Emitter implements SdkPreflight {
  stopped = false;
  constructor(public token: string, public options: unknown) { super(); }
  stop() { this.stopped = true; }
}

export const DIAL = { To: "+14155550100", CallerId: "+15005550006" };

/** A phone in twilio mode, with a stand-in for the kernel's side of it: the call button's
 *  cmd_call asks the Device to dial (as twilio_widget/calls/browser.py does), and the Device's
 *  reports are merged into `device` (and its errors shown) as the kernel merges them. How a
 *  call's reports become the `call` trait is the kernel's rule, tested in tests/test_voice.py:
 *  here the reports themselves are checked. */
export function setUp(mode: "twilio" | "sandbox" = "twilio") {
  const model = new FakeModel({ mode, call: {}, device: { status: "off" } });
  let tokens = 0;
  model.answers.cmd_token = () => ({ ok: true, token: `jwt-${++tokens}`, identity: "alice" });
  model.answers.cmd_call = () => {
    model.kernelSends({ type: "twp:device", action: "dial", args: DIAL });
    return { ok: true, call: { sid: "pending", status: "connecting" } };
  };
  model.answers.cmd_device_event = (msg) => {
    model.kernelSets({ device: { ...model.state.device, ...(msg as Partial<DeviceState>) } });
    if (msg.error) model.kernelSets({ error: msg.error as DeviceState["error"] });
    return { ok: true };
  };
  const devices: FakeDevice[] = [];
  const preflights: FakePreflight[] = [];
  const runPreflight: PreflightFactory = (token, options) => {
    const test = new FakePreflight(token, options);
    preflights.push(test);
    return test;
  };
  const stop = manageVoice(proxyOf(model), model.invoke, (token, options) => {
    const d = new FakeDevice(token);
    d.options = options;
    devices.push(d);
    return d;
  }, runPreflight);
  const view = proxyOf(model);
  const panel = new Panel(view, model.invoke, () => controllerFor(view));
  document.body.append(panel.root);
  cleanups.push(() => { stop(); panel.destroy(); });
  const $ = (sel: string) => panel.root.querySelector<HTMLElement>(sel)!;
  const reports = (name = "cmd_call_event") => model.commands.filter((c) => c.name === name).map((c) => c.msg);
  return { model, devices, preflights, panel, $, stop, reports };
}

export const cleanups: (() => void)[] = [];
afterEach(() => { cleanups.splice(0).forEach((c) => c()); });
export const settle = () => new Promise((r) => setTimeout(r, 0));
