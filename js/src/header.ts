// The top of the panel look: the contact with arrows to step through the book, a button per
// phone field (the element's "names of the fields from which the numbers are taken") and the
// selected number.

import { h, replaceChildren } from "./dom";
import type { RegionContext } from "./region";

export function contactStepper({ act, scope }: RegionContext): HTMLElement {
  const el = h("div", { className: "twp-contact" });
  const step = (label: string, glyph: string, by: number, count: number) =>
    h("button", {
      className: "twp-step", type: "button", "aria-label": label,
      disabled: count < 2, onclick: () => void act.run("cmd_step_contact", { step: by }),
    }, glyph);
  scope.watch(["contact"], () => {
    const contact = act.get("contact");
    if (!("key" in contact)) {
      replaceChildren(el, h("span", { className: "twp-contact-name" }, "No contacts"));
      return;
    }
    replaceChildren(el,
      step("Previous contact", "‹", -1, contact.count),
      h("div", { className: "twp-contact-text" },
        h("span", { className: "twp-contact-name", "data-testid": "contact-name" }, contact.name),
        h("span", { className: "twp-contact-position" },
          contact.key ? `${contact.position + 1} of ${contact.count}` : "not in your contacts")),
      step("Next contact", "›", 1, contact.count));
  });
  return el;
}

export function fieldButtons({ act, scope }: RegionContext): HTMLElement {
  const el = h("div", { className: "twp-fields", role: "group", "aria-label": "Phone fields" });
  scope.watch(["numbers", "selected_number"], () => {
    const selected = act.get("selected_number");
    replaceChildren(el, act.get("numbers").map((n) =>
      h("button", {
        className: "twp-field-button", type: "button", "data-field": n.field, "data-number": n.number,
        "aria-pressed": String(n.number === selected), title: n.display,
        onclick: () => act.pick(n.number),
      }, n.label)));
  });
  return el;
}

export function selectedNumber({ act, scope }: RegionContext): HTMLElement {
  const el = h("div", { className: "twp-selected", "data-testid": "selected-number", "aria-live": "polite" });
  scope.watch(["selected_display"], () => {
    const display = act.get("selected_display");
    el.textContent = display || "No number selected";
    el.classList.toggle("twp-empty", !display);
  });
  return el;
}
