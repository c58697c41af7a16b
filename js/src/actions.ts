// What the panel's controls do: every region acts through these, so a call placed from the
// numpad, one placed from the default look and one placed from a cell take the same path
// (the kernel, which asks the browser's Device to dial in twilio mode).

import { isActive } from "./format";
import type { CommandResponse, Invoke, Model, PanelError, State } from "./types";
import type { VoiceController } from "./voice";

export class Actions {
  constructor(
    readonly model: Model,
    private invoke: Invoke,
    private voice: () => VoiceController | null = () => null,
  ) {}

  get<K extends keyof State>(key: K): State[K] {
    return this.model.get(key);
  }

  set<K extends keyof State>(key: K, value: State[K]): void {
    this.model.set(key, value);
    this.model.save_changes();
  }

  /** Run a kernel command; a refusal or a kernel that does not answer is shown, never lost. */
  async run(name: string, msg: Record<string, unknown> = {}): Promise<CommandResponse | undefined> {
    try {
      const response = await this.invoke(name, msg);
      if (!response.ok && response.error) this.showError(response.error);
      return response;
    } catch (err) {
      this.showError({ message: `The kernel did not answer (${describe(err)}). Is it still running?`, code: null });
      return undefined;
    }
  }

  showError(error: PanelError): void {
    this.set("error", error);
  }

  /** The Device when calls run in this browser (twilio mode); otherwise the kernel runs them. */
  get browserCalls(): VoiceController | null {
    return this.get("mode") === "twilio" ? this.voice() : null;
  }

  /** The voice controller whatever the mode, for the audio settings. */
  get device(): VoiceController | null {
    return this.voice();
  }

  /** Choosing a number selects it and puts it on the pad (even over an erased or corrected
   *  one): the pad is what a call dials. */
  pick(number: string): void {
    this.model.set("selected_number", number);
    this.model.set("dialpad", number);
    this.model.save_changes();
  }

  /** A key types on the pad, or sends its tone while a call is connected. */
  pressKey(key: string): void {
    if (this.get("call").status === "in-progress") void this.digits(key);
    else this.set("dialpad", this.get("dialpad") + key);
  }

  erase(): void {
    this.set("dialpad", this.get("dialpad").slice(0, -1));
  }

  /** The kernel's reason the pad cannot be called; none while the kernel has not yet checked
   *  the text shown (it checks each key press, and refuses a bad number on the call anyway). */
  dialProblem(): string {
    const check = this.get("dialpad_check");
    return check && check.dialpad === this.get("dialpad") ? check.problem : "";
  }

  callOrHangUp(): void {
    if (isActive(this.get("call").status)) void this.hangUp();
    else if (!this.dialProblem()) void this.placeCall(); // Enter on a pad the button refuses
  }

  /** The kernel checks the number (the pad's, unless one is given) and picks the caller ID;
   *  in twilio mode it then asks this browser's Device to dial, as it does for a cell. */
  async placeCall(number?: string, override?: string): Promise<void> {
    await this.run("cmd_call", { ...(number ? { number } : {}), ...(override ? { override } : {}) });
  }

  /** Whether the pad's problem is a calling rule's (hours, do-not-call): a call can still be
   *  placed, with a reason the kernel records with the call. */
  ruleRefuses(): boolean {
    const check = this.get("dialpad_check");
    return !!check && check.dialpad === this.get("dialpad") && !!check.rule;
  }

  async hangUp(): Promise<void> {
    if (this.browserCalls) this.browserCalls.hangUp();
    else await this.run("cmd_hang_up");
  }

  async mute(muted: boolean): Promise<void> {
    if (this.browserCalls) this.browserCalls.mute(muted);
    else await this.run("cmd_mute", { muted });
  }

  async digits(digits: string): Promise<void> {
    if (this.browserCalls) this.browserCalls.digits(digits);
    else await this.run("cmd_digits", { digits });
  }

  async accept(): Promise<void> {
    const sid = this.browserCalls?.accept();
    await this.run("cmd_accept", sid ? { sid } : {});
  }

  async reject(): Promise<void> {
    this.browserCalls?.reject();
    await this.run("cmd_reject");
  }

  /** Text the selected number; true once the kernel took the message. */
  async send(body: string): Promise<boolean> {
    if (!body.trim()) return false;
    const response = await this.run("cmd_send_message", { body });
    return !!response?.ok;
  }

  /** Without pushed events (no routing service), an open panel asks the kernel to catch up. */
  poll(root: HTMLElement): void {
    if (this.get("live_events") || document.hidden || !root.isConnected) return;
    void this.invoke("cmd_poll", {}).catch(() => undefined); // a missed poll is retried next time
  }
}

function describe(err: unknown): string {
  if (err instanceof Error) return err.name === "TimeoutError" ? "timed out" : err.message;
  return String(err);
}
