// Mounting a panel on a fake model for the region tests, and asking what a user would see.

import { Panel } from "./panel";
import { FakeModel } from "./testing";
import type { State } from "./types";

export interface Mounted {
  model: FakeModel;
  panel: Panel;
  $: <T extends HTMLElement = HTMLElement>(sel: string) => T;
  $$: (sel: string) => HTMLElement[];
}

export function mountPanel(overrides: Partial<State> = {}): Mounted {
  const model = new FakeModel(overrides);
  const panel = new Panel(model, model.invoke);
  document.body.append(panel.root);
  const $ = <T extends HTMLElement = HTMLElement>(sel: string) => panel.root.querySelector<T>(sel)!;
  const $$ = (sel: string) => [...panel.root.querySelectorAll<HTMLElement>(sel)];
  return { model, panel, $, $$ };
}

/** Whether a user sees `el`: it is there, neither it nor an ancestor is hidden, and it does not
 *  lie in the look the panel is not showing (widget.css hides that look; jsdom reads no CSS). */
export function shown(el: Element | null): boolean {
  const root = el?.closest<HTMLElement>(".twp-root");
  if (!el || !root) return false;
  const otherLook = root.dataset.interpretation === "default" ? ".twp-panel" : ".twp-default";
  if (el.closest(otherLook)) return false;
  for (let node: Element | null = el; node && node !== root.parentElement; node = node.parentElement) {
    if ((node as HTMLElement).hidden) return false;
  }
  return true;
}
