// Browser calling with the Twilio Voice SDK: one Device per widget model (created in
// initialize, destroyed with the model), registered for incoming calls under the current
// user's identity. It writes no widget state: it reports what the Device did as commands
// (cmd_device_event, cmd_call_event, cmd_incoming), the kernel writes the `device` and `call`
// traits, and the panel draws SDK calls exactly like sandbox and bridge calls. The kernel asks
// it to act with `twp:device` messages: a call placed or controlled from a cell, or the call
// button (the kernel checks the number, then asks the Device to dial it), and to run the SDK's
// preflight test. What only this page needs (warning chips, level meters, the preflight's
// progress) is kept here and drawn by the panel (subscribe), never synced.

import { RegistrationWatch, TokenSchedule } from "./keepalive";
import { PreflightRunner, type PreflightView } from "./preflight";
import { CallQualityMonitor, type Levels } from "./quality";
import {
  type DeviceFactory, type DeviceOptions, EXPIRED_TOKEN_CODES, OFFLINE_CODES, type PreflightFactory, type SdkCall,
  type SdkDevice, type SdkError, TOKEN_CODES, VOICE_HINTS,
} from "./sdk";
import type { CallEvent, DeviceEvent, DeviceRequest, DeviceState, Invoke, Model, PanelError } from "./types";

interface Token {
  token: string;
  identity: string;
  ttl: number;
  options: DeviceOptions;
}

const LEAVE_WARNING = "A call is in progress. Leave the page and end it?";

export class VoiceController {
  private device: SdkDevice | null = null;
  private call: SdkCall | null = null;
  private ringing: SdkCall | null = null;
  private pendingToken: string | null = null;
  private destroyed = false;
  // What this Device last reported: the kernel's copy in the model comes a round trip later.
  private status: DeviceState["status"] = "off";
  private readonly onKernel = (content: unknown) => this.fromKernel(content);
  private quality: CallQualityMonitor | null = null;
  private readonly tokens = new TokenSchedule(() => void this.refreshToken());
  private watch: RegistrationWatch | null = null;
  private readonly preflight: PreflightRunner;
  private readonly watchers = new Set<(what: string) => void>();
  private readonly onLeave = (event: BeforeUnloadEvent) => this.beforeUnload(event);

  constructor(
    private model: Model,
    private invoke: Invoke,
    private createDevice: DeviceFactory,
    runPreflight: PreflightFactory = () => { throw { message: "The preflight test is not available here" }; },
  ) {
    model.on("msg:custom", this.onKernel);
    this.preflight = new PreflightRunner(runPreflight, invoke, () => this.changed("preflight"));
    globalThis.addEventListener?.("beforeunload", this.onLeave);
  }

  /** Fetch a token from the kernel, create the Device and register it for incoming calls. */
  async start(): Promise<void> {
    this.reportDevice({ status: "starting", error: null });
    const token = await this.fetchToken();
    if (!token || this.destroyed) return;
    const device = this.createDevice(token.token, token.options);
    this.device = device;
    this.listen(device);
    this.tokens.start(token.ttl);
    this.watch = new RegistrationWatch({
      state: () => device.state,
      busy: () => this.call !== null || this.ringing !== null,
      refused: () => this.status === "error",
      register: () => void device.register().catch((err: SdkError) => this.onDeviceError(err)),
      reregister: () => void device.unregister().then(() => device.register())
        .catch((err: SdkError) => this.onDeviceError(err)),
      stale: () => this.reportDevice({ status: "stale" }),
    });
    this.reportDevice({ status: "registering", identity: token.identity });
    device.register().catch((err: SdkError) => this.onDeviceError(err));
  }

  /** Close the signalling connection, whatever state the model is in. The SDK ends the calls
   * first and runs their listeners; when a cell is re-run the model is already closed, and a
   * listener that touched it would throw out of the SDK's destroy() before it unregistered,
   * leaving the old Device ringing. So from here on nothing is reported. */
  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.model.off("msg:custom", this.onKernel);
    globalThis.removeEventListener?.("beforeunload", this.onLeave);
    this.tokens.stop();
    this.watch?.stop();
    this.watchers.clear();
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

  /** The warnings of the call in progress that have not cleared, by the SDK's names. */
  get warnings(): string[] {
    return this.quality?.warnings ?? [];
  }

  get levels(): Levels {
    return this.quality?.levels ?? { input: 0, output: 0 };
  }

  get preflightView(): PreflightView | null {
    return this.preflight.view;
  }

  /** Call `listener` when what only this page shows changes ("warnings", "levels", "preflight"). */
  subscribe(listener: (what: string) => void): () => void {
    this.watchers.add(listener);
    return () => this.watchers.delete(listener);
  }

  /** Dial what the kernel approved. Reported before the SDK is asked, so the kernel knows at
   *  once that a panel heard it, however long the browser's microphone prompt then takes. */
  async connect(params: Record<string, string>): Promise<void> {
    this.reportCall({ sid: "pending", status: "connecting", direction: "outbound", remote: params.To });
    try {
      if (!this.device) throw { message: "The phone is not connected to Twilio yet" } satisfies SdkError;
      this.track(await this.device.connect({ params }));
    } catch (err) {
      this.reportCall({ sid: "pending", status: "failed" });
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
    this.reportCall({ sid: sidOf(this.call), digits });
  }

  accept(): string | null {
    const call = this.ringing;
    if (!call) return null;
    this.ringing = null;
    call.accept();
    this.reportCall({ sid: sidOf(call), status: "in-progress", direction: "inbound", remote: call.parameters.From ?? "" });
    this.track(call);
    return call.parameters.CallSid ?? null;
  }

  reject(): void {
    this.ringing?.reject();
    this.ringing = null;
  }

  async setInput(id: string): Promise<void> {
    await this.device?.audio?.setInputDevice(id);
    this.reportDevice({ input: id });
  }

  async setOutput(id: string): Promise<void> {
    await this.device?.audio?.speakerDevices.set(id);
    this.reportDevice({ output: id });
  }

  // -- internals ------------------------------------------------------------------------------

  /** The kernel's requests: what a cell (or the call button, through the kernel) asks of the Device. */
  private fromKernel(content: unknown): void {
    if (!isDeviceRequest(content) || this.destroyed) return;
    const args = content.args ?? {};
    if (content.action === "dial") {
      void this.connect(Object.fromEntries(Object.entries(args).map(([k, v]) => [k, String(v)])));
    } else if (content.action === "hang_up") this.hangUp();
    else if (content.action === "mute") this.mute(Boolean(args.muted));
    else if (content.action === "digits") this.digits(String(args.digits ?? ""));
    else if (content.action === "preflight") void this.runPreflight(String(args.id ?? ""));
  }

  /** The SDK's preflight test, with a token of its own and this phone's edge and codecs. */
  private async runPreflight(id: string): Promise<void> {
    if (this.preflight.running) return this.preflight.fail(id, { message: "A preflight test is already running" });
    if (this.call) return this.preflight.fail(id, { message: "Hang up first: the test places a call of its own" });
    const token = await this.fetchToken();
    if (!token) return this.preflight.fail(id, { message: "The kernel did not hand out a token" });
    this.preflight.start(id, token.token, token.options);
  }

  private changed(what: string): void {
    for (const listener of [...this.watchers]) listener(what);
  }

  private beforeUnload(event: BeforeUnloadEvent): void {
    if (!this.call || this.destroyed) return;
    event.preventDefault();
    event.returnValue = LEAVE_WARNING; // older browsers show a prompt only when this is set
  }

  private listen(device: SdkDevice): void {
    device.on("registering", () => this.reportDevice({ status: "registering" }));
    device.on("registered", () => {
      this.watch?.registered();
      this.reportDevice({ status: "registered", error: null });
    });
    device.on("unregistered", () => this.reportDevice({ status: "unregistered" }));
    device.on("error", (err: SdkError) => this.onDeviceError(err));
    device.on("incoming", (call: SdkCall) => this.onIncoming(call));
    device.on("tokenWillExpire", () => void this.refreshToken());
    device.audio?.on("deviceChange", () => this.publishAudioDevices());
    this.publishAudioDevices();
  }

  private async fetchToken(): Promise<Token | null> {
    try {
      const response = await this.invoke("cmd_token", {});
      if (!response.ok) {
        this.reportDevice({ status: "error", error: response.error ?? { message: "No token", code: null } });
        return null;
      }
      const options = (response.options ?? {}) as Partial<DeviceOptions>;
      return {
        token: String(response.token), identity: String(response.identity), ttl: Number(response.ttl) || 3600,
        options: { edge: options.edge ?? [], codecs: options.codecs ?? ["opus", "pcmu"] },
      };
    } catch (err) {
      this.reportDevice({ status: "error", error: { message: `The kernel did not hand out a token (${String(err)})`, code: null } });
      return null;
    }
  }

  private async refreshToken(): Promise<void> {
    const token = await this.fetchToken();
    if (!token || !this.device) return;
    this.tokens.start(token.ttl);
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
        this.report("cmd_incoming_ended", { sid: call.parameters.CallSid ?? "" });
      }
    };
    call.on("cancel", end);
    call.on("disconnect", end);
    call.on("reject", end);
    this.report("cmd_incoming", { sid: call.parameters.CallSid ?? "", from: call.parameters.From ?? "" });
  }

  private track(call: SdkCall): void {
    this.call = call;
    const report = (event: Omit<CallEvent, "sid">) => this.reportCall({ sid: sidOf(call), ...event });
    this.quality = new CallQualityMonitor(call, (quality) => report({ quality }), (what) => this.changed(what));
    call.on("ringing", () => report({ status: "ringing" }));
    call.on("accept", () => report({ status: "in-progress" }));
    call.on("mute", (muted: boolean) => report({ muted }));
    call.on("reconnecting", () => report({ status: "reconnecting" }));
    call.on("reconnected", () => report({ status: "in-progress" }));
    // The SDK ends a call it could not start (a refused microphone) just before it emits the
    // error: an end is settled a microtask later, so the error's "failed" is what the kernel hears.
    call.on("disconnect", () => queueMicrotask(() => this.ended(call, "completed")));
    call.on("cancel", () => queueMicrotask(() => this.ended(call, "canceled")));
    call.on("reject", () => this.ended(call, "busy"));
    call.on("error", (err: SdkError) => {
      this.onDeviceError(err);
      this.ended(call, "failed");
    });
  }

  /** How the Device saw the call end; the kernel decides what the panel shows (a call never
   *  answered was cancelled; the lead's leg may already have said busy or no-answer). */
  private ended(call: SdkCall, reason: string): void {
    if (this.call !== call) return;
    this.call = null;
    const quality = this.quality?.finish();
    this.quality = null;
    this.reportCall({ sid: sidOf(call), status: reason, ...(quality ? { quality } : {}) });
    this.changed("warnings");
    if (this.pendingToken && this.device) {
      this.device.updateToken(this.pendingToken);
      this.pendingToken = null;
    }
  }

  private onDeviceError(err: SdkError): void {
    const code = typeof err?.code === "number" ? err.code : null;
    const message = err?.description || err?.message || "Twilio Voice error";
    const error: PanelError = { message, code, hint: code !== null ? VOICE_HINTS[code] ?? null : null };
    let status: DeviceState["status"] = this.status === "registered" ? "registered" : "error";
    if (code !== null && OFFLINE_CODES.has(code)) status = "offline";
    if (code !== null && TOKEN_CODES.has(code)) status = "error";
    this.reportDevice({ status, error });
    // An expired token is renewed at once (the warning before expiry can be missed, e.g. while
    // the laptop slept); a refused one is not: it needs the configuration fixed.
    if (code !== null && EXPIRED_TOKEN_CODES.has(code)) void this.refreshToken();
  }

  private publishAudioDevices(): void {
    const audio = this.device?.audio;
    if (!audio) return;
    const list = (devices: Map<string, MediaDeviceInfo>) =>
      [...devices.values()].map((d) => ({ id: d.deviceId, label: d.label || d.deviceId }));
    this.reportDevice({
      inputs: list(audio.availableInputDevices),
      outputs: list(audio.availableOutputDevices),
      output_selection: audio.isOutputSelectionSupported,
    });
  }

  private reportCall(event: CallEvent): void {
    this.report("cmd_call_event", { ...event });
  }

  private reportDevice(event: DeviceEvent): void {
    if (event.status && !this.destroyed) this.status = event.status;
    this.report("cmd_device_event", { ...event });
  }

  /** Tell the kernel; a lost report is logged (the next one carries the state on). */
  private report(name: string, msg: Record<string, unknown>): void {
    if (this.destroyed) return;
    this.invoke(name, msg).catch((err) => console.warn(`twilio-widget: ${name} did not reach the kernel`, err));
  }
}

const sidOf = (call: SdkCall) => call.parameters.CallSid ?? "pending";

function isDeviceRequest(content: unknown): content is DeviceRequest {
  return typeof content === "object" && content !== null && (content as DeviceRequest).type === "twp:device";
}
