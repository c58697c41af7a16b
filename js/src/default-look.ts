// The element's "default" look: one button that opens a pop-up list of the contact's numbers.
// What the look opens (the call with its card and bar) shows in the sheet under the button.

import { h } from "./dom";
import { numberMenu } from "./number-menu";
import type { RegionContext } from "./region";

export interface DefaultLook {
  element: HTMLElement;
  /** Where the regions both looks share (the call) show in this one. */
  sheet: HTMLElement;
}

export function defaultLook(ctx: RegionContext): DefaultLook {
  const sheet = h("div", { className: "twp-default-sheet" });
  const bar = h("div", { className: "twp-default-bar" }, numberMenu(ctx));
  return { element: h("div", { className: "twp-default" }, bar, sheet), sheet };
}
