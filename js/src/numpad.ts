// The Numpad tab: enter, correct and erase a number, then call it; during a call its keys send
// tones. The call button is off, with the kernel's reason beside it, while the pad holds
// nothing callable.

import { h } from "./dom";
import { isActive } from "./format";
import { icon } from "./icons";
import type { RegionContext } from "./region";

export const KEYS = ["1", "2", "3", "4", "5", "6", "7", "8", "9", "*", "0", "#"];
const KEY_LETTERS: Record<string, string> = {
  "2": "ABC", "3": "DEF", "4": "GHI", "5": "JKL", "6": "MNO", "7": "PQRS", "8": "TUV", "9": "WXYZ", "0": "+",
};

/** The twelve keys of a phone, each with its letters; `className` tells the pad's keys from
 *  the call bar's tone keys. */
export function keyGrid(className: string, press: (key: string) => void): HTMLElement {
  return h("div", { className: "twp-keys" }, KEYS.map((k) =>
    h("button", {
      className, type: "button", "data-key": k, "aria-label": k, onclick: () => press(k),
    }, h("span", { className: "twp-key-digit" }, k), h("span", { className: "twp-key-letters" }, KEY_LETTERS[k] ?? ""))));
}

export function numpad(ctx: RegionContext): HTMLElement {
  const { act, scope } = ctx;
  const display = h("output", { className: "twp-dialpad-display", "aria-label": "Typed number", "data-testid": "dialpad" });
  const erase = h("button", {
    className: "twp-erase", type: "button", "aria-label": "Erase last digit", onclick: () => act.erase(),
  }, icon("backspace"));
  const problem = h("span", {
    className: "twp-dial-problem", id: ctx.uid("dial-problem"), "data-testid": "dial-problem", "aria-live": "polite",
  });
  const callButton = h("button", {
    className: "twp-call", type: "button", "aria-label": "Call", "data-testid": "call-button",
    onclick: () => act.callOrHangUp(),
  }, icon("phone"), icon("hangup")) as HTMLButtonElement;

  // A calling rule's refusal can be set aside on purpose: the reason typed here is recorded with the call.
  const why = h("input", {
    className: "twp-override-reason", type: "text", "aria-label": "Reason to call anyway",
    placeholder: "Why call anyway?", "data-testid": "override-reason",
  }) as HTMLInputElement;
  const callAnyway = h("button", {
    className: "twp-override", type: "button", "aria-label": "Call anyway", "data-testid": "call-anyway",
    onclick: () => { if (why.value.trim()) void act.placeCall(undefined, why.value.trim()); else why.focus(); },
  }, "Call anyway") as HTMLButtonElement;
  const override = h("div", { className: "twp-override-row", hidden: true }, why, callAnyway);

  /** The reason the pad cannot be called, beside it and given to the disabled button. */
  const showProblem = (reason: string) => {
    callButton.disabled = !!reason;
    problem.textContent = reason;
    problem.hidden = !reason;
    if (reason) {
      callButton.title = reason;
      callButton.setAttribute("aria-describedby", problem.id);
    } else {
      callButton.removeAttribute("title");
      callButton.removeAttribute("aria-describedby");
    }
  };

  scope.watch(["dialpad", "dialpad_check", "call"], () => {
    const typed = act.get("dialpad");
    display.textContent = typed;
    display.classList.toggle("twp-empty", !typed);
    const active = isActive(act.get("call").status);
    callButton.classList.toggle("twp-hangup", active);
    callButton.setAttribute("aria-label", active ? "Hang up" : "Call");
    callButton.dataset.testid = active ? "hangup-button" : "call-button";
    showProblem(active ? "" : act.dialProblem()); // hang-up works whatever the pad holds
    override.hidden = active || !act.ruleRefuses();
  });

  return h("section", { className: "twp-tab-panel twp-numpad", "data-tab": "numpad", role: "tabpanel" },
    h("div", { className: "twp-dialpad-row" }, display, erase),
    keyGrid("twp-key", (k) => act.pressKey(k)),
    // The reason stands beside the button: the fixed-height pad has no line to spare.
    h("div", { className: "twp-call-row" }, h("span"), callButton, problem),
    override);
}
