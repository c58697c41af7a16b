// How a browser call sounds, while it matters: a chip for each of the Voice SDK's warnings
// while it lasts (with what the user can do about it), microphone and speaker level meters,
// and the preflight test, offered when a call failed or sounded poor. Levels arrive up to
// 60 times a second: they come from this page's Device (VoiceController.subscribe), never
// from a synced trait, and only the meters' widths change.

import { h, replaceChildren } from "./dom";
import { isActive } from "./format";
import type { Actions } from "./actions";
import type { RegionContext } from "./region";
import { WARNING_HINTS, WARNING_LABELS } from "./sdk";
import type { VoiceController } from "./voice";

export function callQuality({ act, scope }: RegionContext): HTMLElement {
  const chips = h("ul", { className: "twp-quality-chips", "aria-label": "Call quality warnings",
    "data-testid": "quality-warnings" });
  const input = meter("Microphone level", "mic-level");
  const output = meter("Speaker level", "speaker-level");
  const meters = h("div", { className: "twp-meters" }, input.el, output.el);
  const preflight = preflightArea(act);
  const root = h("section", { className: "twp-quality", "aria-label": "Call quality", "data-testid": "call-quality" },
    chips, meters, preflight.el);

  let voice: VoiceController | null = null;
  let unsubscribe = () => {};
  const drawWarnings = () => replaceChildren(chips, (voice?.warnings ?? []).map(chip));
  const drawLevels = () => {
    input.set(voice?.levels.input ?? 0);
    output.set(voice?.levels.output ?? 0);
  };
  const draw = () => {
    const browser = act.get("mode") === "twilio";
    const inCall = browser && isActive(act.get("call").status);
    meters.hidden = !inCall;
    drawWarnings();
    drawLevels();
    preflight.draw(browser, voice);
    root.hidden = !browser || (!inCall && preflight.el.hidden);
  };
  scope.watch(["mode", "device", "call"], () => {
    if (act.device !== voice) {
      unsubscribe();
      voice = act.device;
      unsubscribe = voice?.subscribe((what) => (what === "levels" ? drawLevels() : draw())) ?? (() => {});
    }
    draw();
  });
  scope.add(() => unsubscribe());
  return root;
}

function chip(name: string): HTMLElement {
  return h("li", { className: "twp-quality-chip", "data-testid": "quality-warning", "data-warning": name },
    h("strong", {}, WARNING_LABELS[name] ?? name), " ", h("span", {}, WARNING_HINTS[name] ?? ""));
}

function meter(label: string, testid: string): { el: HTMLElement; set: (level: number) => void } {
  const bar = h("span", { className: "twp-meter-bar" });
  const el = h("div", { className: "twp-meter", role: "meter", "aria-label": label, "aria-valuemin": 0,
    "aria-valuemax": 100, "aria-valuenow": 0, "data-testid": testid }, bar);
  let shown = -1;
  return {
    el,
    set: (level: number) => {
      const percent = Math.round(Math.max(0, Math.min(1, level)) * 100);
      if (percent === shown) return;
      shown = percent;
      bar.style.width = `${percent}%`;
      el.setAttribute("aria-valuenow", String(percent));
    },
  };
}

/** The preflight test: offered after a failed or poor call, its progress and verdict shown. */
function preflightArea(act: Actions) {
  const button = h("button", { className: "twp-preflight", type: "button", "data-testid": "preflight",
    onclick: () => void act.run("cmd_preflight") }, "Test my connection");
  const status = h("p", { className: "twp-preflight-status", role: "status", "data-testid": "preflight-status" });
  const el = h("div", { className: "twp-preflight-area" }, button, status);
  const draw = (browser: boolean, voice: VoiceController | null) => {
    const call = act.get("call");
    const view = voice?.preflightView ?? null;
    const poor = call.status === "failed" || (call.quality?.seen.length ?? 0) > 0;
    const running = view?.status === "connecting" || view?.status === "connected";
    button.hidden = !browser || isActive(call.status) || running || !(poor || view);
    status.textContent = !view ? "" : running ? `Testing the connection… ${view.samples ? `${view.samples} s` : ""}`
      : view.verdict ? `Connection test: ${view.verdict}. ${view.advice ?? ""}`
        : view.status === "failed" ? "Connection test failed." : "Connection test done.";
    el.hidden = button.hidden && !view;
  };
  return { el, draw };
}
