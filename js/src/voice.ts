// Browser calling with the Twilio Voice SDK: one Device per widget model (created in
// initialize, destroyed with the model), registered for incoming calls under the current
// user's identity. It reports its state and every call's state through the model's traits,
// so the panel draws SDK calls exactly like sandbox and bridge calls.

import { isActive } from "./format";
import type { CallState, DeviceState, Invoke, Model, PanelError } from "./types";

// The slice of the SDK's Device and Call the controller uses; tests supply fakes of it.
export interface SdkCall {
  parameters: Record<string, string>;
  customParameters?: Map<string, string>;
  accept(): void;
  reject(): void;
  disconnect(): void;
  mute(shouldMute?: boolean): void;
  isMuted(): boolean;
  sendDigits(digits: string): void;
  on(event: string, listener: (...args: any[]) => void): unknown;
}

export interface SdkAudio {
  availableInputDevices: Map<string, MediaDeviceInfo>;
  availableOutputDevices: Map<string, MediaDeviceInfo>;
  isOutputSelectionSupported: boolean;
  setInputDevice(id: string): Promise<void>;
  speakerDevices: { set(id: string | string[]): Promise<void> };
  on(event: string, listener: (...args: any[]) => void): unknown;
}

export interface SdkDevice {
  state: string;
  audio: SdkAudio | null;
  register(): Promise<void>;
  connect(options: { params: Record<string, string> }): Promise<SdkCall>;
  updateToken(token: string): void;
  destroy(): void;
  on(event: string, listener: (...args: any[]) => void): unknown;
}

export type DeviceFactory = (token: string) => SdkDevice;

// Hints for the SDK's errors, by code: what the user can do about each.
export const VOICE_HINTS: Record<number, string> = {
  31401: "The browser blocked the microphone: allow it for this page (the lock icon in the address bar), then call again.",
  31402: "No microphone was found: plug one in or pick another input under Audio settings.",
  20101: "The access token was refused: check the API key, secret and App SID in your configuration.",
  20104: "The access token expired: the panel asks the kernel for a new one; re-run the cell if this persists.",
  31204: "The access token was refused: check the API key, secret and App SID in your configuration.",
  31205: "The access token expired: the panel asks the kernel for a new one; re-run the cell if this persists.",
  31000: "Twilio cannot be reached: check the network; the panel keeps retrying.",
  31005: "The connection to Twilio dropped: the panel keeps retrying.",
  31009: "Twilio cannot be reached: check the network; the panel keeps retrying.",
  31208: "The microphone permission was denied: allow it for this page, then call again.",
  31486: "The callee is busy.",
  31480: "The callee is not available right now.",
  31603: "The call was declined.",
};
const OFFLINE_CODES = new Set([31000, 31005, 31009, 53000, 53001]);
const TOKEN_CODES = new Set([20101, 20104, 31204, 31205, 31206, 31207]);
const EXPIRED_TOKEN_CODES = new Set([20104, 31205]);

interface SdkError {
  code?: number;
  message?: string;
  explanation?: string;
  description?: string;
}

export class VoiceController {
  private device: SdkDevice | null = null;
  private call: SdkCall | null = null;
  private ringing: SdkCall | null = null;
  private pendingToken: string | null = null;
  private destroyed = false;

  constructor(
    private model: Model,
    private invoke: Invoke,
    private createDevice: DeviceFactory,
  ) {}

  /** Fetch a token from the kernel, create the Device and register it for incoming calls. */
  async start(): Promise<void> {
    this.setDevice({ status: "starting", error: null });
    const token = await this.fetchToken();
    if (!token || this.destroyed) return;
    const device = this.createDevice(token.token);
    this.device = device;
    this.listen(device);
    this.setDevice({ status: "registering", identity: token.identity });
    device.register().catch((err: SdkError) => this.onDeviceError(err));
  }

  /** Close the signalling connection, whatever state the model is in. The SDK ends the calls
   * first and runs their listeners; when a cell is re-run the model is already closed, and a
   * listener that touched it would throw out of the SDK's destroy() before it unregistered,
   * leaving the old Device ringing. So from here on nothing is reported. */
  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    const device = this.device;
    this.device = null;
    this.call = null;
    this.ringing = null;
    try {
      device?.destroy();
    } catch (err) {
      console.warn("twilio-widget: the Voice SDK failed to close its Device", err);
    }
  }

  get busy(): boolean {
    return this.call !== null;
  }

  async connect(params: Record<string, string>): Promise<void> {
    if (!this.device) throw new Error("The phone is not connected to Twilio yet");
    this.setCall({ status: "connecting", direction: "outbound", remote: params.To, sid: "pending",
      started_at: null, muted: false, digits: "", end_reason: null });
    try {
      const call = await this.device.connect({ params });
      this.track(call, "outbound", params.To);
    } catch (err) {
      this.setCall({ ...this.model.get("call"), status: "failed", end_reason: "failed" });
      this.onDeviceError(err as SdkError);
    }
  }

  hangUp(): void {
    if (this.call) this.call.disconnect();
    else if (this.ringing) this.ringing.reject();
  }

  mute(muted: boolean): void {
    this.call?.mute(muted);
  }

  digits(digits: string): void {
    if (!this.call) return;
    this.call.sendDigits(digits);
    const state = this.model.get("call");
    this.setCall({ ...state, digits: (state.digits ?? "") + digits });
  }

  accept(): string | null {
    const call = this.ringing;
    if (!call) return null;
    this.ringing = null;
    call.accept();
    this.track(call, "inbound", call.parameters.From ?? "");
    return call.parameters.CallSid ?? null;
  }

  reject(): void {
    this.ringing?.reject();
    this.ringing = null;
  }

  async setInput(id: string): Promise<void> {
    await this.device?.audio?.setInputDevice(id);
    this.setDevice({ input: id });
  }

  async setOutput(id: string): Promise<void> {
    await this.device?.audio?.speakerDevices.set(id);
    this.setDevice({ output: id });
  }

  // -- internals ------------------------------------------------------------------------------

  private listen(device: SdkDevice): void {
    device.on("registering", () => this.setDevice({ status: "registering" }));
    device.on("registered", () => this.setDevice({ status: "registered", error: null }));
    device.on("unregistered", () => this.setDevice({ status: "unregistered" }));
    device.on("error", (err: SdkError) => this.onDeviceError(err));
    device.on("incoming", (call: SdkCall) => this.onIncoming(call));
    device.on("tokenWillExpire", () => void this.refreshToken());
    device.audio?.on("deviceChange", () => this.publishAudioDevices());
    this.publishAudioDevices();
  }

  private async fetchToken(): Promise<{ token: string; identity: string } | null> {
    try {
      const response = await this.invoke("cmd_token", {});
      if (!response.ok) {
        this.setDevice({ status: "error", error: response.error ?? { message: "No token", code: null } });
        return null;
      }
      return { token: String(response.token), identity: String(response.identity) };
    } catch (err) {
      this.setDevice({ status: "error", error: { message: `The kernel did not hand out a token (${String(err)})`, code: null } });
      return null;
    }
  }

  private async refreshToken(): Promise<void> {
    const token = await this.fetchToken();
    if (!token || !this.device) return;
    // A new token takes effect between calls: the call in progress keeps its media session.
    if (this.call) this.pendingToken = token.token;
    else this.device.updateToken(token.token);
  }

  private onIncoming(call: SdkCall): void {
    if (this.call || this.ringing) {
      call.reject();
      return;
    }
    this.ringing = call;
    const end = () => {
      if (this.ringing === call) {
        this.ringing = null;
        void this.invoke("cmd_incoming_ended", { sid: call.parameters.CallSid ?? "" });
      }
    };
    call.on("cancel", end);
    call.on("disconnect", end);
    call.on("reject", end);
    void this.invoke("cmd_incoming", { sid: call.parameters.CallSid ?? "", from: call.parameters.From ?? "" });
  }

  private track(call: SdkCall, direction: "inbound" | "outbound", remote: string): void {
    this.call = call;
    const sid = () => call.parameters.CallSid ?? "pending";
    this.setCall({
      ...this.model.get("call"), sid: sid(), direction, remote,
      status: direction === "inbound" ? "in-progress" : "connecting",
      started_at: direction === "inbound" ? new Date().toISOString() : null,
      muted: false, digits: "", end_reason: null,
    });
    call.on("ringing", () => this.setCall({ ...this.model.get("call"), sid: sid(), status: "ringing" }));
    call.on("accept", () => this.setCall({
      ...this.model.get("call"), sid: sid(), status: "in-progress",
      started_at: this.model.get("call").started_at ?? new Date().toISOString(),
    }));
    call.on("mute", (muted: boolean) => this.setCall({ ...this.model.get("call"), muted }));
    call.on("reconnecting", () => this.setCall({ ...this.model.get("call"), status: "reconnecting" }));
    call.on("reconnected", () => this.setCall({ ...this.model.get("call"), status: "in-progress" }));
    call.on("disconnect", () => this.ended(call, "completed"));
    call.on("cancel", () => this.ended(call, "canceled"));
    call.on("reject", () => this.ended(call, "busy"));
    call.on("error", (err: SdkError) => {
      this.onDeviceError(err);
      this.ended(call, "failed");
    });
  }

  private ended(call: SdkCall, reason: string): void {
    if (this.call !== call) return;
    this.call = null;
    const state = this.model.get("call");
    const answered = !!state.started_at;
    // The kernel may already know how the far end's leg ended (busy, no-answer ...): keep it.
    const known = state.status && !isActive(state.status) ? state.status : null;
    const status = known ?? (reason === "completed" && !answered ? "canceled" : reason);
    const duration = answered && state.started_at
      ? Math.round((Date.now() - Date.parse(state.started_at)) / 1000) : 0;
    this.setCall({ ...state, status, end_reason: status, duration });
    if (this.pendingToken && this.device) {
      this.device.updateToken(this.pendingToken);
      this.pendingToken = null;
    }
    void this.invoke("cmd_call_ended", { sid: call.parameters.CallSid ?? "", status });
  }

  private onDeviceError(err: SdkError): void {
    if (this.destroyed) return;
    const code = typeof err?.code === "number" ? err.code : null;
    const message = err?.description || err?.message || "Twilio Voice error";
    const error: PanelError = { message, code, hint: code !== null ? VOICE_HINTS[code] ?? null : null };
    const current = this.model.get("device")?.status;
    let status: DeviceState["status"] = current === "registered" ? "registered" : "error";
    if (code !== null && OFFLINE_CODES.has(code)) status = "offline";
    if (code !== null && TOKEN_CODES.has(code)) status = "error";
    this.setDevice({ status, error });
    this.model.set("error", error);
    this.model.save_changes();
    // An expired token is renewed at once (the warning before expiry can be missed, e.g. while
    // the laptop slept); a refused one is not: it needs the configuration fixed.
    if (code !== null && EXPIRED_TOKEN_CODES.has(code)) void this.refreshToken();
  }

  private publishAudioDevices(): void {
    const audio = this.device?.audio;
    if (!audio) return;
    const list = (devices: Map<string, MediaDeviceInfo>) =>
      [...devices.values()].map((d) => ({ id: d.deviceId, label: d.label || d.deviceId }));
    this.setDevice({
      inputs: list(audio.availableInputDevices),
      outputs: list(audio.availableOutputDevices),
      output_selection: audio.isOutputSelectionSupported,
    });
  }

  private setCall(call: CallState): void {
    if (this.destroyed) return;
    this.model.set("call", call);
    this.model.save_changes();
  }

  private setDevice(update: Partial<DeviceState>): void {
    if (this.destroyed) return;
    const current: DeviceState = this.model.get("device") ?? { status: "starting" };
    this.model.set("device", { ...current, ...update });
    this.model.save_changes();
  }
}
