// A ringing incoming call, over whatever the panel shows: who calls, their card (the view),
// accept and reject.

import { h, replaceChildren } from "./dom";
import { recordCard } from "./card";
import type { RegionContext } from "./region";

export function incomingCall({ act, scope }: RegionContext): HTMLElement {
  const box = h("div", { className: "twp-incoming", role: "alertdialog", "aria-live": "assertive" });
  scope.watch(["incoming"], () => {
    const incoming = act.get("incoming");
    box.hidden = !incoming;
    if (!incoming) return replaceChildren(box);
    const contact = incoming.contact;
    replaceChildren(box,
      h("div", { className: "twp-incoming-title" }, "Incoming call"),
      h("div", { className: "twp-incoming-caller", "data-testid": "incoming-caller" }, contact ? contact.name : incoming.display),
      contact ? h("div", { className: "twp-incoming-number" }, incoming.display) : null,
      contact ? recordCard(contact.fields, "incoming-card") : h("p", { className: "twp-unknown" }, "Unknown caller"),
      h("div", { className: "twp-incoming-actions" },
        h("button", { className: "twp-accept", type: "button", "aria-label": "Accept call", onclick: () => void act.accept() }, "Accept"),
        h("button", { className: "twp-reject", type: "button", "aria-label": "Reject call", onclick: () => void act.reject() }, "Reject")));
  });
  return box;
}
