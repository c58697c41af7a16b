// The element's "default" look: one button that opens a pop-up list of the contact's numbers.

import { h, replaceChildren } from "./dom";
import { icon } from "./icons";
import type { RegionContext } from "./region";

export interface DefaultLook {
  element: HTMLElement;
  /** Where the regions both looks share (the call) show in this one, under the button. */
  sheet: HTMLElement;
}

export function defaultLook({ act, scope }: RegionContext): DefaultLook {
  const el = h("div", { className: "twp-default-bar" });
  const sheet = h("div", { className: "twp-default-sheet" });
  let open = false;
  const draw = () => {
    const selected = act.get("selected_number");
    const toggle = h("button", {
      className: "twp-default-button", type: "button", "aria-haspopup": "listbox",
      "aria-expanded": String(open), "data-testid": "default-button",
      onclick: () => { open = !open; draw(); },
    }, icon("phone"), act.get("selected_display") || "No number", h("span", { className: "twp-caret", "aria-hidden": "true" }, " ▾"));
    const popup = open
      ? h("ul", { className: "twp-popup", role: "listbox", "aria-label": "Phone numbers" },
        act.get("numbers").map((n) => h("li", { role: "option", "aria-selected": String(n.number === selected) },
          h("button", {
            className: "twp-popup-item", type: "button", "data-number": n.number,
            onclick: () => { open = false; act.pick(n.number); draw(); },
          }, h("span", { className: "twp-popup-label" }, n.label), h("span", { className: "twp-popup-number" }, n.display)))))
      : null;
    replaceChildren(el, toggle, popup);
  };
  scope.watch(["numbers", "selected_number", "selected_display"], draw);
  return { element: h("div", { className: "twp-default" }, el, sheet), sheet };
}
