// The default look's button and its pop-up list of the contact's numbers (the element: "a
// button that opens the pop-up list with all available phone numbers"). A listbox that works
// from the keyboard: arrows open it at the chosen number and move through it, Enter or Space
// chooses, Escape closes it and focus goes back to the button.

import { h, replaceChildren } from "./dom";
import type { RegionContext } from "./region";

const NEXT: Record<string, (at: number, count: number) => number> = {
  ArrowDown: (at, count) => Math.min(at + 1, count - 1),
  ArrowUp: (at) => Math.max(at - 1, 0),
  Home: () => 0,
  End: (_, count) => count - 1,
};

export function numberMenu({ act, scope, uid }: RegionContext): HTMLElement {
  let open = false;
  const popup = h("ul", { className: "twp-popup", role: "listbox", "aria-label": "Phone numbers", id: uid("numbers") });
  const toggle = h("button", {
    className: "twp-default-button", type: "button", "aria-haspopup": "listbox", "aria-controls": popup.id,
    "data-testid": "default-button", title: "Choose the number",
    onclick: () => (open ? close() : show()),
    onkeydown: (e: Event) => {
      const key = (e as KeyboardEvent).key;
      if (key !== "ArrowDown" && key !== "ArrowUp") return;
      e.preventDefault();
      show();
    },
  });
  const menu = h("div", {
    className: "twp-number-menu",
    // Focus leaving the menu (a click elsewhere, Tab) closes it, as a native select does.
    onfocusout: (e: Event) => {
      if (open && !menu.contains((e as FocusEvent).relatedTarget as Node | null)) close(false);
    },
  }, toggle);

  const options = () => [...popup.querySelectorAll<HTMLElement>("[role=option]")];

  function show(): void {
    open = true;
    draw();
    const all = options();
    (all.find((o) => o.getAttribute("aria-selected") === "true") ?? all[0])?.focus();
  }

  function close(refocus = true): void {
    open = false;
    draw();
    if (refocus) toggle.focus();
  }

  function choose(number: string): void {
    act.pick(number);
    close();
  }

  function onOptionKey(e: KeyboardEvent, number: string): void {
    const all = options();
    const move = NEXT[e.key];
    if (move) all[move(all.indexOf(e.target as HTMLElement), all.length)]?.focus();
    else if (e.key === "Enter" || e.key === " ") choose(number);
    else if (e.key === "Escape") close();
    else return;
    e.preventDefault();
  }

  function draw(): void {
    const selected = act.get("selected_number");
    const chosen = act.get("numbers").find((n) => n.number === selected);
    replaceChildren(toggle,
      chosen ? h("span", { className: "twp-popup-label" }, chosen.label) : null,
      h("span", { className: "twp-default-number" }, act.get("selected_display") || "No number"),
      h("span", { className: "twp-caret", "aria-hidden": "true" }, "▾"));
    toggle.setAttribute("aria-expanded", String(open));
    replaceChildren(popup, act.get("numbers").map((n) =>
      h("li", {
        className: "twp-popup-item", role: "option", tabindex: -1, "data-number": n.number,
        "aria-selected": String(n.number === selected),
        onclick: () => choose(n.number),
        onkeydown: (e: Event) => onOptionKey(e as KeyboardEvent, n.number),
      }, h("span", { className: "twp-popup-label" }, n.label), h("span", { className: "twp-popup-number" }, n.display))));
    // Out of the page while closed, so the popup's class marks an open list.
    if (open) menu.append(popup);
    else popup.remove();
  }

  scope.watch(["numbers", "selected_number", "selected_display"], draw);
  return menu;
}
