// The element's "default" look: one button that opens a pop-up list of the contact's numbers,
// with Call and Text beside it for the chosen number. What they open (the call with its
// card, bar and keypad; the thread with its compose box) shows in the sheet under the button.

import { h } from "./dom";
import { isActive } from "./format";
import { icon } from "./icons";
import { numberMenu } from "./number-menu";
import type { RegionContext } from "./region";

export interface DefaultLook {
  element: HTMLElement;
  /** Where the regions both looks share (the call, the thread) show in this one. */
  sheet: HTMLElement;
}

export function defaultLook(ctx: RegionContext): DefaultLook {
  const { act, scope } = ctx;
  const call = h("button", {
    className: "twp-default-call", type: "button", "data-testid": "default-call",
    // The number shown on the button, not the pad: in this look the pad is out of sight.
    onclick: () => void act.placeCall(act.get("selected_number")),
  }, icon("phone"), h("span", {}, "Call"));
  const text = h("button", {
    className: "twp-default-text", type: "button", "data-testid": "default-text",
    "aria-controls": ctx.uid("messages"),
    // The thread is the Messages tab's region: `tab` records that it is open, in both looks.
    onclick: () => act.set("tab", act.get("tab") === "messages" ? "numpad" : "messages"),
  }, icon("message"), h("span", {}, "Text"));

  scope.watch(["selected_number", "selected_display", "call", "tab"], () => {
    const number = act.get("selected_display") || act.get("selected_number");
    labelAction(call as HTMLButtonElement, number ? `Call ${number}` : "", "No number to call");
    labelAction(text as HTMLButtonElement, number ? `Text ${number}` : "", "No number to text");
    // During a call its own bar below holds the controls: no second hang-up up here.
    call.hidden = isActive(act.get("call").status);
    text.setAttribute("aria-expanded", String(act.get("tab") === "messages"));
  });

  const sheet = h("div", { className: "twp-default-sheet" });
  const bar = h("div", { className: "twp-default-bar" }, numberMenu(ctx), call, text);
  return { element: h("div", { className: "twp-default" }, bar, sheet), sheet };
}

/** An action on the chosen number: named with it, or off with the reason there is none. */
function labelAction(button: HTMLButtonElement, name: string, missing: string): void {
  button.disabled = !name;
  button.setAttribute("aria-label", name || missing);
  button.title = name || missing;
}
