// The phone panel: field buttons and the selected number on top, Numpad / Call history /
// Messages below, tab buttons at the bottom; or, in the "default" look, one button that opens
// a pop-up list of the contact's numbers. It only draws state and sends commands.

import { h, replaceChildren } from "./dom";
import { icon, type IconName } from "./icons";
import {
  bridgeStatusText,
  callStatusText,
  elapsedSince,
  formatDuration,
  formatWhen,
  isActive,
} from "./format";
import type { DeviceState, Invoke, Model, PanelError, State, Tab } from "./types";
import { VOICE_HINTS, type VoiceController } from "./voice";

const TABS: { id: Tab; label: string; icon: IconName }[] = [
  { id: "numpad", label: "Numpad", icon: "dialpad" },
  { id: "history", label: "Call history", icon: "history" },
  { id: "messages", label: "Messages", icon: "message" },
];
const KEYS = ["1", "2", "3", "4", "5", "6", "7", "8", "9", "*", "0", "#"];
const KEY_LETTERS: Record<string, string> = {
  "2": "ABC", "3": "DEF", "4": "GHI", "5": "JKL", "6": "MNO", "7": "PQRS", "8": "TUV", "9": "WXYZ", "0": "+",
};
const DIALPAD_CHARS = /^[0-9*#+]$/;
// Without pushed events (no routing service), an open panel asks the kernel to catch up.
export const POLL_MS = 15_000;
// Ids that tie the call button to its reason stay unique when a phone is displayed twice.
let panelCount = 0;
const HINTS: Record<number, string> = {
  ...VOICE_HINTS,
  21211: "Check the number: Twilio could not read it as a phone number.",
  21610: "This person replied STOP; they must text START before you can message them.",
  20003: "Check the Account SID and Auth Token (or API key) in your configuration.",
};

export class Panel {
  readonly root: HTMLElement;
  private model: Model;
  private invoke: Invoke;
  private timer: ReturnType<typeof setInterval> | undefined;
  private poller: ReturnType<typeof setInterval> | undefined;
  private popupOpen = false;
  private regions: Record<string, HTMLElement> = {};
  private compose!: HTMLTextAreaElement;
  private onChange = () => this.update();

  private voice: () => VoiceController | null;
  private audioOpen = false;
  private readonly id = ++panelCount;

  constructor(model: Model, invoke: Invoke, voice: () => VoiceController | null = () => null) {
    this.model = model;
    this.invoke = invoke;
    this.voice = voice;
    this.root = h("div", {
      className: "twp-root",
      tabindex: 0,
      role: "group",
      "aria-label": "Twilio phone",
      "data-lm-suppress-shortcuts": "true",
      "data-testid": "twilio-phone",
      onkeydown: (e: Event) => this.onKey(e as KeyboardEvent),
    });
    this.build();
    this.model.on("change", this.onChange);
    this.timer = setInterval(() => this.tick(), 1000);
    this.poller = setInterval(() => this.poll(), POLL_MS);
    this.update();
  }

  destroy(): void {
    this.model.off("change", this.onChange);
    if (this.timer) clearInterval(this.timer);
    if (this.poller) clearInterval(this.poller);
    this.root.remove();
  }

  private get<K extends keyof State>(key: K): State[K] {
    return this.model.get(key);
  }

  private setState<K extends keyof State>(key: K, value: State[K]): void {
    this.model.set(key, value);
    this.model.save_changes();
  }

  // -- building -------------------------------------------------------------------------------

  private build(): void {
    const r = this.regions;
    r.banner = h("div", { className: "twp-banner", "data-testid": "mode-banner" });
    r.incoming = h("div", { className: "twp-incoming", role: "alertdialog", "aria-live": "assertive" });
    r.contact = h("div", { className: "twp-contact" });
    r.fields = h("div", { className: "twp-fields", role: "group", "aria-label": "Phone fields" });
    r.selected = h("div", {
      className: "twp-selected", "data-testid": "selected-number", "aria-live": "polite",
    });
    r.defaultLook = h("div", { className: "twp-default" });
    r.audioToggle = h("button", {
      className: "twp-audio-toggle", type: "button", "aria-label": "Audio settings",
      onclick: () => { this.audioOpen = !this.audioOpen; this.drawAudio(); },
    }, "Audio settings");
    r.audio = h("div", { className: "twp-audio", role: "group", "aria-label": "Audio devices" });
    r.header = h("header", { className: "twp-header" }, r.contact, r.fields, r.selected, r.audioToggle, r.audio);
    r.callbar = h("div", { className: "twp-callbar", "aria-live": "polite" });
    r.numpad = this.buildNumpad();
    r.history = h("section", { className: "twp-tab-panel twp-history", "data-tab": "history", role: "tabpanel" });
    r.messages = this.buildMessages();
    r.error = h("div", { className: "twp-error", role: "alert" });
    r.tabs = h(
      "nav", { className: "twp-tabs", role: "tablist", "aria-label": "Phone tabs" },
      TABS.map((t) =>
        h("button", {
          className: "twp-tab", type: "button", role: "tab", "data-tab": t.id,
          "aria-label": t.label, onclick: () => this.setState("tab", t.id),
        }, icon(t.icon), h("span", {}, t.label)),
      ),
    );
    r.panelLook = h("div", { className: "twp-panel" },
      r.header, h("div", { className: "twp-body" }, r.numpad, r.history, r.messages), r.callbar, r.tabs);
    this.root.append(r.banner, r.incoming, r.panelLook, r.defaultLook, r.error);
  }

  private buildNumpad(): HTMLElement {
    const r = this.regions;
    r.dialDisplay = h("output", { className: "twp-dialpad-display", "aria-label": "Typed number", "data-testid": "dialpad" });
    r.erase = h("button", {
      className: "twp-erase", type: "button", "aria-label": "Erase last digit",
      onclick: () => this.erase(),
    }, icon("backspace"));
    const keys = KEYS.map((k) =>
      h("button", {
        className: "twp-key", type: "button", "data-key": k, "aria-label": k,
        onclick: () => this.pressKey(k),
      }, h("span", { className: "twp-key-digit" }, k), h("span", { className: "twp-key-letters" }, KEY_LETTERS[k] ?? "")),
    );
    r.dialProblem = h("span", {
      className: "twp-dial-problem", id: `twp-dial-problem-${this.id}`, "data-testid": "dial-problem",
      "aria-live": "polite",
    });
    r.callButton = h("button", {
      className: "twp-call", type: "button", "aria-label": "Call", "data-testid": "call-button",
      onclick: () => this.callOrHangUp(),
    }, icon("phone"), icon("hangup"));
    return h("section", { className: "twp-tab-panel twp-numpad", "data-tab": "numpad", role: "tabpanel" },
      h("div", { className: "twp-dialpad-row" }, r.dialDisplay, r.erase),
      h("div", { className: "twp-keys" }, keys),
      // The reason stands beside the button: the fixed-height pad has no line to spare.
      h("div", { className: "twp-call-row" }, h("span"), r.callButton, r.dialProblem));
  }

  private buildMessages(): HTMLElement {
    const r = this.regions;
    r.thread = h("ol", { className: "twp-thread", "aria-label": "Messages" });
    this.compose = h("textarea", {
      className: "twp-compose", rows: 2, maxlength: 1600, placeholder: "Write a message…",
      "aria-label": "Message text",
      onkeydown: (e: Event) => {
        const ke = e as KeyboardEvent;
        if (ke.key === "Enter" && !ke.shiftKey) {
          ke.preventDefault();
          void this.send();
        }
      },
    }) as HTMLTextAreaElement;
    r.send = h("button", {
      className: "twp-send", type: "button", "aria-label": "Send message", onclick: () => void this.send(),
    }, "Send");
    return h("section", { className: "twp-tab-panel twp-messages", "data-tab": "messages", role: "tabpanel" },
      r.thread, h("div", { className: "twp-compose-row" }, this.compose, r.send));
  }

  // -- drawing --------------------------------------------------------------------------------

  update(): void {
    const look = this.get("interpretation");
    this.root.dataset.interpretation = look;
    this.root.dataset.mode = this.get("mode");
    this.root.dataset.tab = this.get("tab");
    this.drawBanner();
    this.drawIncoming();
    this.drawError();
    if (look === "default") {
      this.drawDefaultLook();
      return;
    }
    this.drawContact();
    this.drawAudio();
    this.drawFields();
    this.drawSelected();
    this.drawTabs();
    this.drawNumpad();
    this.drawCallbar();
    this.drawHistory();
    this.drawThread();
  }

  private drawBanner(): void {
    const mode = this.get("mode");
    const device = this.get("device");
    let text = "";
    if (mode === "sandbox") text = "Sandbox: calls and messages are simulated, nothing reaches Twilio.";
    else if (mode === "bridge") text = "Bridge mode: calls ring your own phone first, then the contact.";
    else text = deviceText(device);
    const banner = this.regions.banner;
    banner.textContent = text;
    banner.hidden = !text;
    banner.dataset.device = mode === "twilio" ? device?.status ?? "off" : "";
  }

  private drawContact(): void {
    const contact = this.get("contact");
    if (!("key" in contact)) {
      replaceChildren(this.regions.contact, h("span", { className: "twp-contact-name" }, "No contacts"));
      return;
    }
    replaceChildren(this.regions.contact,
      h("button", {
        className: "twp-step", type: "button", "aria-label": "Previous contact",
        disabled: contact.count < 2, onclick: () => void this.run("cmd_step_contact", { step: -1 }),
      }, "‹"),
      h("div", { className: "twp-contact-text" },
        h("span", { className: "twp-contact-name", "data-testid": "contact-name" }, contact.name),
        h("span", { className: "twp-contact-position" },
          contact.key ? `${contact.position + 1} of ${contact.count}` : "not in your contacts")),
      h("button", {
        className: "twp-step", type: "button", "aria-label": "Next contact",
        disabled: contact.count < 2, onclick: () => void this.run("cmd_step_contact", { step: 1 }),
      }, "›"));
  }

  private drawAudio(): void {
    const device = this.get("device");
    const usable = this.get("mode") === "twilio" && !!device?.inputs;
    const box = this.regions.audio;
    box.hidden = !usable || !this.audioOpen;
    this.regions.audioToggle.hidden = !usable;
    this.regions.audioToggle.setAttribute("aria-expanded", String(this.audioOpen));
    if (box.hidden) return;
    // Drawn from the device state each time, chosen entries included, so a redraw never
    // shows another device than the one in use.
    const select = (label: string, options: { id: string; label: string }[], chosen: string | undefined,
      apply: (id: string) => Promise<void>) =>
      h("label", { className: "twp-audio-row" }, h("span", {}, label),
        h("select", {
          className: "twp-audio-select", "aria-label": label,
          onchange: (e: Event) => void apply((e.target as HTMLSelectElement).value).catch((err) =>
            this.showError({ message: `Could not switch ${label.toLowerCase()}: ${String(err)}`, code: null })),
        }, options.map((o) => h("option", { value: o.id, selected: o.id === chosen }, o.label))));
    replaceChildren(box,
      select("Microphone", device.inputs ?? [], device.input,
        (id) => this.voice()?.setInput(id) ?? Promise.resolve()),
      device.output_selection
        ? select("Speaker", device.outputs ?? [], device.output,
          (id) => this.voice()?.setOutput(id) ?? Promise.resolve())
        : h("p", { className: "twp-audio-note" }, "This browser plays calls on its default speaker."));
  }

  private drawFields(): void {
    const selected = this.get("selected_number");
    replaceChildren(this.regions.fields, this.get("numbers").map((n) =>
      h("button", {
        className: "twp-field-button", type: "button", "data-field": n.field, "data-number": n.number,
        "aria-pressed": String(n.number === selected), title: n.display,
        onclick: () => this.pick(n.number),
      }, n.label)));
  }

  private drawSelected(): void {
    const display = this.get("selected_display");
    this.regions.selected.textContent = display || "No number selected";
    this.regions.selected.classList.toggle("twp-empty", !display);
  }

  private drawTabs(): void {
    const tab = this.get("tab");
    for (const button of this.regions.tabs.querySelectorAll<HTMLElement>(".twp-tab")) {
      const on = button.dataset.tab === tab;
      button.setAttribute("aria-selected", String(on));
      button.classList.toggle("twp-active", on);
    }
    for (const id of ["numpad", "history", "messages"] as const) {
      this.regions[id].hidden = id !== tab;
    }
  }

  private drawNumpad(): void {
    const typed = this.get("dialpad");
    this.regions.dialDisplay.textContent = typed;
    this.regions.dialDisplay.classList.toggle("twp-empty", !typed);
    const active = isActive(this.get("call").status);
    const button = this.regions.callButton as HTMLButtonElement;
    button.classList.toggle("twp-hangup", active);
    button.setAttribute("aria-label", active ? "Hang up" : "Call");
    button.dataset.testid = active ? "hangup-button" : "call-button";
    this.drawDialProblem(active ? "" : this.dialProblem());
  }

  /** The reason the pad cannot be called, shown under it and given to the disabled button. */
  private drawDialProblem(problem: string): void {
    const button = this.regions.callButton as HTMLButtonElement;
    const reason = this.regions.dialProblem;
    button.disabled = !!problem;
    reason.textContent = problem;
    reason.hidden = !problem;
    if (problem) {
      button.title = problem;
      button.setAttribute("aria-describedby", reason.id);
    } else {
      button.removeAttribute("title");
      button.removeAttribute("aria-describedby");
    }
  }

  /** The kernel's reason the pad cannot be called; none while the kernel has not yet checked
   *  the text shown (it checks each key press, and refuses a bad number on the call anyway). */
  private dialProblem(): string {
    const check = this.get("dialpad_check");
    return check && check.dialpad === this.get("dialpad") ? check.problem : "";
  }

  private drawCallbar(): void {
    const call = this.get("call");
    const bar = this.regions.callbar;
    if (!call.sid) {
      bar.hidden = true;
      replaceChildren(bar);
      return;
    }
    bar.hidden = false;
    const active = isActive(call.status);
    bar.dataset.status = call.status ?? "";
    const label = bridgeStatusText(call.status, call.leg);
    replaceChildren(bar,
      h("div", { className: "twp-call-info" },
        h("span", { className: "twp-call-status", "data-testid": "call-status" }, label),
        h("span", { className: "twp-call-remote" }, call.remote_display ?? call.remote ?? ""),
        h("span", { className: "twp-call-timer", "data-testid": "call-timer" }, this.timerText())),
      call.status === "in-progress" && this.get("mode") !== "bridge" ? h("button", {
        className: "twp-mute", type: "button", "aria-pressed": String(!!call.muted),
        "aria-label": call.muted ? "Unmute" : "Mute",
        onclick: () => void this.mute(!call.muted),
      }, call.muted ? "Unmute" : "Mute") : null,
      active ? h("button", {
        className: "twp-hangup-button", type: "button", "aria-label": "Hang up",
        "data-testid": "callbar-hangup", onclick: () => void this.hangUp(),
      }, "Hang up") : h("button", {
        className: "twp-dismiss", type: "button", "aria-label": "Dismiss",
        onclick: () => this.setState("call", {}),
      }, "✕"));
  }

  private timerText(): string {
    const call = this.get("call");
    if (call.status === "in-progress") return formatDuration(elapsedSince(call.started_at));
    if (!isActive(call.status) && typeof call.duration === "number" && call.duration > 0) {
      return formatDuration(call.duration);
    }
    return "";
  }

  private poll(): void {
    if (this.get("live_events") || document.hidden || !this.root.isConnected) return;
    void this.invoke("cmd_poll", {}).catch(() => undefined); // a missed poll is retried next time
  }

  private tick(): void {
    const timer = this.regions.callbar.querySelector(".twp-call-timer");
    if (timer) timer.textContent = this.timerText();
  }

  private drawHistory(): void {
    const rows = this.get("history");
    if (!rows.length) {
      replaceChildren(this.regions.history, h("p", { className: "twp-empty-note" },
        this.get("selected_number") ? "No calls with this number yet." : "Select a number to see its calls."));
      return;
    }
    replaceChildren(this.regions.history, h("ol", { className: "twp-history-list", "aria-label": "Call history" },
      rows.map((row) =>
        h("li", { className: "twp-history-row", "data-sid": row.sid, "data-status": row.status, "data-direction": row.direction },
          icon(row.direction === "inbound" ? "incoming" : "outgoing", row.direction),
          h("span", { className: "twp-history-status" }, historyText(row.direction, row.status)),
          h("span", { className: "twp-history-duration" }, row.duration ? formatDuration(row.duration) : ""),
          h("time", { className: "twp-history-time", datetime: row.time ?? "" }, formatWhen(row.time))))));
  }

  private drawThread(): void {
    const rows = this.get("thread");
    const list = this.regions.thread;
    const atBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 24;
    if (!rows.length) {
      replaceChildren(list, h("li", { className: "twp-empty-note" }, "No messages yet."));
    } else {
      replaceChildren(list, rows.map((m) =>
        h("li", { className: "twp-message", "data-sid": m.sid, "data-direction": m.direction, "data-status": m.status },
          h("div", { className: "twp-bubble" }, m.body),
          h("div", { className: "twp-message-meta" },
            h("time", { datetime: m.time ?? "" }, formatWhen(m.time)),
            m.direction === "outbound" ? h("span", { className: "twp-message-status" }, m.status) : null,
            m.error_code ? h("span", { className: "twp-message-error" }, `error ${m.error_code}`) : null))));
    }
    if (atBottom) list.scrollTop = list.scrollHeight;
  }

  private drawIncoming(): void {
    const incoming = this.get("incoming");
    const box = this.regions.incoming;
    box.hidden = !incoming;
    if (!incoming) {
      replaceChildren(box);
      return;
    }
    const contact = incoming.contact;
    const card = contact
      ? h("dl", { className: "twp-card", "data-testid": "incoming-card" },
          Object.entries(contact.fields).flatMap(([k, v]) => [h("dt", {}, k), h("dd", {}, v === null ? "" : String(v))]))
      : h("p", { className: "twp-unknown" }, "Unknown caller");
    replaceChildren(box,
      h("div", { className: "twp-incoming-title" }, "Incoming call"),
      h("div", { className: "twp-incoming-caller", "data-testid": "incoming-caller" },
        contact ? contact.name : incoming.display),
      contact ? h("div", { className: "twp-incoming-number" }, incoming.display) : null,
      card,
      h("div", { className: "twp-incoming-actions" },
        h("button", { className: "twp-accept", type: "button", "aria-label": "Accept call", onclick: () => void this.accept() }, "Accept"),
        h("button", { className: "twp-reject", type: "button", "aria-label": "Reject call", onclick: () => void this.reject() }, "Reject")));
  }

  private drawError(): void {
    const error = this.get("error");
    const box = this.regions.error;
    box.hidden = !error;
    if (!error) {
      replaceChildren(box);
      return;
    }
    const hint = error.hint ?? (error.code ? HINTS[error.code] : undefined);
    replaceChildren(box,
      h("span", { className: "twp-error-text", "data-testid": "error-text" },
        error.code ? `${error.message} (${error.code})` : error.message),
      hint ? h("span", { className: "twp-error-hint" }, hint) : null,
      h("button", {
        className: "twp-error-close", type: "button", "aria-label": "Dismiss error",
        onclick: () => this.setState("error", null),
      }, "✕"));
  }

  private drawDefaultLook(): void {
    const numbers = this.get("numbers");
    const selected = this.get("selected_display") || "No number";
    const toggle = h("button", {
      className: "twp-default-button", type: "button", "aria-haspopup": "listbox",
      "aria-expanded": String(this.popupOpen), "data-testid": "default-button",
      onclick: () => { this.popupOpen = !this.popupOpen; this.drawDefaultLook(); },
    }, icon("phone"), selected, h("span", { className: "twp-caret", "aria-hidden": "true" }, " ▾"));
    const popup = this.popupOpen
      ? h("ul", { className: "twp-popup", role: "listbox", "aria-label": "Phone numbers" },
          numbers.map((n) => h("li", { role: "option", "aria-selected": String(n.number === this.get("selected_number")) },
            h("button", {
              className: "twp-popup-item", type: "button", "data-number": n.number,
              onclick: () => { this.popupOpen = false; this.pick(n.number); },
            }, h("span", { className: "twp-popup-label" }, n.label), h("span", { className: "twp-popup-number" }, n.display)))))
      : null;
    replaceChildren(this.regions.defaultLook, toggle, popup);
  }

  // -- acting ---------------------------------------------------------------------------------

  private pressKey(key: string): void {
    const call = this.get("call");
    if (call.status === "in-progress") {
      void this.digits(key);
      return;
    }
    this.setState("dialpad", this.get("dialpad") + key);
  }

  /** Choosing a number selects it and puts it on the pad (even over an erased or corrected
   *  one): the pad is what a call dials. */
  private pick(number: string): void {
    this.model.set("selected_number", number);
    this.model.set("dialpad", number);
    this.model.save_changes();
  }

  private erase(): void {
    this.setState("dialpad", this.get("dialpad").slice(0, -1));
  }

  private get browserCalls(): VoiceController | null {
    return this.get("mode") === "twilio" ? this.voice() : null;
  }

  private callOrHangUp(): void {
    if (isActive(this.get("call").status)) void this.hangUp();
    else if (!this.dialProblem()) void this.placeCall(); // Enter on a pad the button refuses
  }

  /** The kernel checks the number and picks the caller ID; the browser's Device dials it. */
  private async placeCall(): Promise<void> {
    const response = await this.run("cmd_call", {});
    const dial = response?.ok ? (response.dial as Record<string, string> | undefined) : undefined;
    if (!dial) return;
    if (this.browserCalls) await this.browserCalls.connect(dial);
    else this.showError({ message: "The browser phone is not running: re-run the cell that shows the panel", code: null });
  }

  private async hangUp(): Promise<void> {
    if (this.browserCalls) this.browserCalls.hangUp();
    else await this.run("cmd_hang_up");
  }

  private async mute(muted: boolean): Promise<void> {
    if (this.browserCalls) this.browserCalls.mute(muted);
    else await this.run("cmd_mute", { muted });
  }

  private async digits(digits: string): Promise<void> {
    if (this.browserCalls) this.browserCalls.digits(digits);
    else await this.run("cmd_digits", { digits });
  }

  private async accept(): Promise<void> {
    const sid = this.browserCalls?.accept();
    await this.run("cmd_accept", sid ? { sid } : {});
  }

  private async reject(): Promise<void> {
    this.browserCalls?.reject();
    await this.run("cmd_reject");
  }

  private async send(): Promise<void> {
    const body = this.compose.value;
    if (!body.trim()) return;
    this.regions.send.setAttribute("disabled", "");
    const response = await this.run("cmd_send_message", { body });
    this.regions.send.removeAttribute("disabled");
    if (response?.ok) this.compose.value = "";
  }

  private onKey(event: KeyboardEvent): void {
    // Keys typed in the panel belong to the panel, not to JupyterLab's notebook shortcuts.
    event.stopPropagation();
    const target = event.target as HTMLElement;
    if (target.tagName === "TEXTAREA" || target.tagName === "INPUT") return;
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    if (this.get("interpretation") !== "panel") return;
    if (DIALPAD_CHARS.test(event.key)) {
      event.preventDefault();
      if (this.get("tab") !== "numpad") this.setState("tab", "numpad");
      this.pressKey(event.key);
    } else if (event.key === "Backspace") {
      event.preventDefault();
      this.erase();
    } else if (event.key === "Enter" && (target === this.root || target.classList.contains("twp-key"))) {
      event.preventDefault();
      this.callOrHangUp();
    }
  }

  async run(name: string, msg: Record<string, unknown> = {}) {
    try {
      const response = await this.invoke(name, msg);
      if (!response.ok && response.error) this.showError(response.error);
      return response;
    } catch (err) {
      this.showError({ message: `The kernel did not answer (${describe(err)}). Is it still running?`, code: null });
      return undefined;
    }
  }

  private showError(error: PanelError): void {
    this.setState("error", error);
  }
}

function deviceText(device: DeviceState | undefined): string {
  switch (device?.status) {
    case "registered": return "";
    case "registering": case "starting": return "Connecting to Twilio…";
    case "offline": return "Offline: Twilio cannot be reached. Retrying…";
    case "unregistered": return "Not registered: incoming calls will not ring here.";
    case "error": return `Phone unavailable: ${device.error?.message ?? "see the error below"}`;
    default: return "";
  }
}

function historyText(direction: "inbound" | "outbound", status: string): string {
  if (status === "completed") return direction === "inbound" ? "Incoming call" : "Outgoing call";
  if (direction === "inbound" && (status === "no-answer" || status === "busy")) return "Missed call";
  return callStatusText(status);
}

function describe(err: unknown): string {
  if (err instanceof Error) return err.name === "TimeoutError" ? "timed out" : err.message;
  return String(err);
}
