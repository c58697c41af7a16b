// The phone panel: field buttons and the selected number on top, Numpad / Call history /
// Messages below, tab buttons at the bottom; or, in the "default" look, one button that opens
// a pop-up list of the contact's numbers. It only draws state and sends commands.
//
// This shell composes the regions (one module each), routes the keyboard and owns the
// lifecycle: every region listens to its own traits through the shell's scope, so destroy()
// removes every listener and timer at once.

import { Actions } from "./actions";
import { audioSettings } from "./audio";
import { banner } from "./banner";
import { callRegion } from "./callbar";
import { callQuality } from "./call-quality";
import { defaultLook } from "./default-look";
import { h } from "./dom";
import { errorBox } from "./error";
import { contactStepper, fieldButtons, selectedNumber } from "./header";
import { callHistory } from "./history";
import { incomingCall } from "./incoming";
import { messages } from "./messages";
import { numpad } from "./numpad";
import type { RegionContext } from "./region";
import { Scope } from "./scope";
import { tabBar } from "./tabs";
import type { CommandResponse, Invoke, Model } from "./types";
import type { VoiceController } from "./voice";

// Without pushed events (no routing service), an open panel asks the kernel to catch up.
export const POLL_MS = 15_000;
const DIALPAD_CHARS = /^[0-9*#+]$/;
const TONE_CHARS = /^[0-9*#]$/;
// Ids that tie a control to its description stay unique when a phone is displayed twice.
let panelCount = 0;

export class Panel {
  readonly root: HTMLElement;
  private act: Actions;
  private scope: Scope;

  constructor(model: Model, invoke: Invoke, voice: () => VoiceController | null = () => null) {
    const id = ++panelCount;
    this.act = new Actions(model, invoke, voice);
    this.scope = new Scope(model);
    this.root = h("div", {
      className: "twp-root",
      tabindex: 0,
      role: "group",
      "aria-label": "Twilio phone",
      "data-lm-suppress-shortcuts": "true",
      "data-testid": "twilio-phone",
      onkeydown: (e: Event) => this.onKey(e as KeyboardEvent),
    });
    this.build({ act: this.act, scope: this.scope, uid: (name) => `twp-${name}-${id}` });
    this.scope.every(POLL_MS, () => this.act.poll(this.root));
  }

  destroy(): void {
    this.scope.dispose();
    this.root.remove();
  }

  /** Run a kernel command as the panel's controls do: a failure is shown on the panel. */
  run(name: string, msg: Record<string, unknown> = {}): Promise<CommandResponse | undefined> {
    return this.act.run(name, msg);
  }

  private build(ctx: RegionContext): void {
    const thread = messages(ctx);
    const tabRegions = [numpad(ctx), callHistory(ctx), thread];
    const header = h("header", { className: "twp-header" },
      contactStepper(ctx), fieldButtons(ctx), selectedNumber(ctx), audioSettings(ctx));
    const body = h("div", { className: "twp-body" }, tabRegions);
    const tabs = tabBar(ctx, tabRegions);
    const plain = defaultLook(ctx);
    const call = callRegion(ctx);
    this.root.append(banner(ctx), callQuality(ctx), incomingCall(ctx), h("div", { className: "twp-panel" }, header, body, tabs),
      plain.element, errorBox(ctx));
    ctx.scope.watch(["interpretation", "mode", "tab"], () => {
      const look = this.act.get("interpretation");
      // The stylesheet shows one look and styles by mode and tab.
      this.root.dataset.interpretation = look;
      this.root.dataset.mode = this.act.get("mode");
      this.root.dataset.tab = this.act.get("tab");
      // One call region and one thread, placed where the look shows them: second copies would
      // answer every change twice and give users (and tests) two controls of the same name.
      if (look === "default") {
        plain.sheet.append(call, thread);
      } else {
        tabs.before(call);
        body.append(thread);
      }
    });
  }

  private onKey(event: KeyboardEvent): void {
    // Keys typed in the panel belong to the panel, not to JupyterLab's notebook shortcuts.
    event.stopPropagation();
    const target = event.target as HTMLElement;
    if (target.tagName === "TEXTAREA" || target.tagName === "INPUT") return;
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    if (this.act.get("interpretation") === "panel") this.onPanelKey(event, target);
    else if (TONE_CHARS.test(event.key) && this.act.get("call").status === "in-progress") {
      // The default look has no pad to type on; during a call, digits are tones.
      event.preventDefault();
      void this.act.digits(event.key);
    }
  }

  private onPanelKey(event: KeyboardEvent, target: HTMLElement): void {
    if (DIALPAD_CHARS.test(event.key)) {
      event.preventDefault();
      if (this.act.get("tab") !== "numpad") this.act.set("tab", "numpad");
      this.act.pressKey(event.key);
    } else if (event.key === "Backspace") {
      event.preventDefault();
      this.act.erase();
    } else if (event.key === "Enter" && (target === this.root || target.classList.contains("twp-key"))) {
      event.preventDefault();
      this.act.callOrHangUp();
    }
  }
}
