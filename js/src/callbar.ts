// The call bar: the call's status, the other party, a running timer, and mute and hang-up
// while the call lasts (dismiss once it ended); above it, the card of the person on the call,
// below it a keypad for tones (the default look's: the panel look has its Numpad tab).

import { h, replaceChildren } from "./dom";
import { bridgeStatusText, elapsedSince, formatDuration, isActive } from "./format";
import type { Actions } from "./actions";
import { callCard } from "./call-card";
import { icon } from "./icons";
import { keyGrid } from "./numpad";
import type { RegionContext } from "./region";
import type { CallState } from "./types";

/** The call's region, shown from the first ring until the ended call is dismissed. */
export function callRegion(ctx: RegionContext): HTMLElement {
  const tones = toneKeypad(ctx);
  const region = h("div", { className: "twp-call-region" }, callCard(ctx), callBar(ctx, tones.toggle), tones.keys);
  ctx.scope.watch(["call"], () => { region.hidden = !ctx.act.get("call").sid; });
  return region;
}

interface ToneKeypad {
  keys: HTMLElement;
  toggle: () => HTMLElement;
}

/** Keys that send tones (menus, extensions) while the call is connected; closed again when it ends. */
function toneKeypad({ act, scope, uid }: RegionContext): ToneKeypad {
  let open = false;
  const keys = h("div", { className: "twp-dtmf", id: uid("tones") }, keyGrid("twp-dtmf-key", (k) => void act.digits(k)));
  const sync = () => { keys.hidden = !open || !canControl(act, act.get("call")); };
  scope.watch(["call", "mode"], () => {
    if (!isActive(act.get("call").status)) open = false;
    sync();
  });
  const toggle = () => h("button", {
    className: "twp-keypad-toggle", type: "button", "aria-label": "Keypad", title: "Keypad",
    "aria-expanded": String(open), "aria-controls": keys.id,
    onclick: (e: Event) => {
      open = !open;
      (e.currentTarget as HTMLElement).setAttribute("aria-expanded", String(open));
      sync();
    },
  }, icon("dialpad"));
  return { keys, toggle };
}

function callBar({ act, scope }: RegionContext, keypadToggle: () => HTMLElement): HTMLElement {
  const bar = h("div", { className: "twp-callbar", "aria-live": "polite" });
  const timer = h("span", { className: "twp-call-timer", "data-testid": "call-timer" });
  scope.watch(["call", "mode"], () => {
    const call = act.get("call");
    bar.dataset.status = call.status ?? "";
    if (!call.sid) return replaceChildren(bar);
    timer.textContent = timerText(call);
    replaceChildren(bar,
      h("div", { className: "twp-call-info" },
        h("span", { className: "twp-call-status", "data-testid": "call-status" }, bridgeStatusText(call.status, call.leg)),
        h("span", { className: "twp-call-remote" }, call.remote_display ?? call.remote ?? ""),
        timer),
      canControl(act, call) ? keypadToggle() : null,
      callControls(act, call),
      recordingNote(call)); // a line of its own under the bar
  });
  // The timer counts on its own between the kernel's updates.
  scope.every(1000, () => { timer.textContent = timerText(act.get("call")); });
  return bar;
}

function callControls(act: Actions, call: CallState): HTMLElement[] {
  const mute = canControl(act, call) ? h("button", {
    className: "twp-mute", type: "button", "aria-pressed": String(!!call.muted),
    "aria-label": call.muted ? "Unmute" : "Mute", onclick: () => void act.mute(!call.muted),
  }, call.muted ? "Unmute" : "Mute") : null;
  const end = isActive(call.status)
    ? h("button", {
      className: "twp-hangup-button", type: "button", "aria-label": "Hang up",
      "data-testid": "callbar-hangup", onclick: () => void act.hangUp(),
    }, "Hang up")
    : h("button", {
      className: "twp-dismiss", type: "button", "aria-label": "Dismiss", onclick: () => void act.run("cmd_dismiss_call"),
    }, "✕");
  // On voicemail, one click leaves the recorded message and frees the user (the kernel redirects the lead's leg).
  const voicemail = call.status === "in-progress" && call.direction === "outbound" && !call.voicemail_dropped
    ? h("button", {
      className: "twp-voicemail-drop", type: "button", "aria-label": "Leave voicemail",
      "data-testid": "voicemail-drop", onclick: () => void act.run("cmd_drop_voicemail"),
    }, call.answered_by?.startsWith("machine") ? "Voicemail: leave message" : "Leave voicemail")
    : null;
  return [mute, voicemail, end].filter((b): b is HTMLElement => b !== null);
}

/** Whether the call is recorded (and the lead told first), when recording is on; the kernel's
 *  reason (the place's consent rule) is its title. */
function recordingNote(call: CallState): HTMLElement | null {
  const decision = call.recording;
  if (!decision?.consent) return null;
  const text = !decision.record ? "Not recorded" : decision.announce ? "Recorded, announced first" : "Recorded";
  return h("span", {
    className: "twp-call-recording", role: "note", "aria-label": `Recording: ${text}`, title: decision.reason,
    "data-testid": "call-recording", "data-recorded": String(decision.record),
  }, text);
}

/** Mute and tones work on a connected call; in bridge mode it runs on the user's own phone,
 *  where they are. */
function canControl(act: Actions, call: CallState): boolean {
  return call.status === "in-progress" && act.get("mode") !== "bridge";
}

function timerText(call: CallState): string {
  if (call.status === "in-progress") return formatDuration(elapsedSince(call.started_at));
  if (!isActive(call.status) && typeof call.duration === "number" && call.duration > 0) {
    return formatDuration(call.duration);
  }
  return "";
}
