// The call bar: the call's status, the other party, a running timer, and mute and hang-up
// while the call lasts (dismiss once it ended); above it, the card of the person on the call.

import { h, replaceChildren } from "./dom";
import { bridgeStatusText, elapsedSince, formatDuration, isActive } from "./format";
import type { Actions } from "./actions";
import { callCard } from "./call-card";
import type { RegionContext } from "./region";
import type { CallState } from "./types";

/** The call's region, shown from the first ring until the ended call is dismissed. */
export function callRegion(ctx: RegionContext): HTMLElement {
  const region = h("div", { className: "twp-call-region" }, callCard(ctx), callBar(ctx));
  ctx.scope.watch(["call"], () => { region.hidden = !ctx.act.get("call").sid; });
  return region;
}

function callBar({ act, scope }: RegionContext): HTMLElement {
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
      callControls(act, call));
  });
  // The timer counts on its own between the kernel's updates.
  scope.every(1000, () => { timer.textContent = timerText(act.get("call")); });
  return bar;
}

function callControls(act: Actions, call: CallState): HTMLElement[] {
  // In bridge mode the call runs on the user's own phone: mute is there, not here.
  const mutable = call.status === "in-progress" && act.get("mode") !== "bridge";
  const mute = mutable ? h("button", {
    className: "twp-mute", type: "button", "aria-pressed": String(!!call.muted),
    "aria-label": call.muted ? "Unmute" : "Mute", onclick: () => void act.mute(!call.muted),
  }, call.muted ? "Unmute" : "Mute") : null;
  const end = isActive(call.status)
    ? h("button", {
      className: "twp-hangup-button", type: "button", "aria-label": "Hang up",
      "data-testid": "callbar-hangup", onclick: () => void act.hangUp(),
    }, "Hang up")
    : h("button", {
      className: "twp-dismiss", type: "button", "aria-label": "Dismiss", onclick: () => act.set("call", {}),
    }, "✕");
  return mute ? [mute, end] : [end];
}

function timerText(call: CallState): string {
  if (call.status === "in-progress") return formatDuration(elapsedSince(call.started_at));
  if (!isActive(call.status) && typeof call.duration === "number" && call.duration > 0) {
    return formatDuration(call.duration);
  }
  return "";
}
