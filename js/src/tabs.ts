// The tab buttons at the bottom of the panel, and which tab's region shows. The `tab` trait is
// the one record of it, so Python, the buttons and the default look's thread agree.

import { h } from "./dom";
import { icon, type IconName } from "./icons";
import type { RegionContext } from "./region";
import type { Tab } from "./types";

const TABS: { id: Tab; label: string; icon: IconName }[] = [
  { id: "numpad", label: "Numpad", icon: "dialpad" },
  { id: "history", label: "Call history", icon: "history" },
  { id: "messages", label: "Messages", icon: "message" },
];

/** The tab bar; `regions` are the tabs' regions, each marked with its `data-tab`. */
export function tabBar({ act, scope }: RegionContext, regions: HTMLElement[]): HTMLElement {
  const buttons = TABS.map((t) =>
    h("button", {
      className: "twp-tab", type: "button", role: "tab", "data-tab": t.id,
      "aria-label": t.label, onclick: () => act.set("tab", t.id),
    }, icon(t.icon), h("span", {}, t.label)));
  scope.watch(["tab"], () => {
    const tab = act.get("tab");
    for (const button of buttons) {
      const on = button.dataset.tab === tab;
      button.setAttribute("aria-selected", String(on));
      button.classList.toggle("twp-active", on);
    }
    for (const region of regions) region.hidden = region.dataset.tab !== tab;
  });
  return h("nav", { className: "twp-tabs", role: "tablist", "aria-label": "Phone tabs" }, buttons);
}
