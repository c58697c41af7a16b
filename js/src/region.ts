// What every region of the panel is built with. A region is a function that builds its
// element once and redraws it from the traits it shows, through the panel's scope.

import type { Actions } from "./actions";
import type { Scope } from "./scope";

export interface RegionContext {
  act: Actions;
  scope: Scope;
  /** An element id unique on the page, even when a phone is displayed twice. */
  uid: (name: string) => string;
}
