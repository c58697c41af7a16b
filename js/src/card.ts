// A contact's record as a card: the columns of the element's "view", name by value.

import { h } from "./dom";
import type { ContactCard } from "./types";

export function recordCard(fields: ContactCard["fields"], testid: string): HTMLElement {
  return h("dl", { className: "twp-card", "data-testid": testid },
    Object.entries(fields).flatMap(([name, value]) => [h("dt", {}, name), h("dd", {}, value === null ? "" : String(value))]));
}
