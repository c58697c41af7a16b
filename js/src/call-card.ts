// The record of the person on the call (the element's "view": "see their data during the
// call"), on screen from the first ring to the hang-up, on every tab and in both looks.
//
// No trait says who is on the line: the kernel clears `incoming` as it accepts a call, and
// `contact` follows the user, who may step to the next lead mid-call. So the card is decided
// once per call, from what the panel saw: the card that rang with this call's sid, or else the
// contact on the panel when the call went to one of its numbers, and kept until the call ends.

import type { Actions } from "./actions";
import { recordCard } from "./card";
import { h, replaceChildren } from "./dom";
import { isActive } from "./format";
import type { CallState, ContactCard } from "./types";
import type { RegionContext } from "./region";

export interface CallParty {
  name: string;
  fields: ContactCard["fields"];
}

export class CallPartyTracker {
  private rang: { sid: string; party: CallParty } | null = null;
  private party: CallParty | null = null;

  /** The record of the active call's other party; null without a call or for a number in no
   *  contact. Call on any change of call, incoming, contact, numbers or selected_number. */
  follow(act: Actions): CallParty | null {
    const incoming = act.get("incoming");
    if (incoming?.contact) this.rang = { sid: incoming.sid, party: incoming.contact };
    const call = act.get("call");
    if (!isActive(call.status)) {
      this.party = null;
      return null;
    }
    this.party ??= this.answeredCaller(call) ?? calledContact(act, call);
    return this.party;
  }

  private answeredCaller(call: CallState): CallParty | null {
    return this.rang && this.rang.sid === call.sid ? this.rang.party : null;
  }
}

/** The contact on the panel, when the call is with one of its numbers (what the kernel shows
 *  after dialling it, or after accepting its call). */
function calledContact(act: Actions, call: CallState): CallParty | null {
  const contact = act.get("contact");
  if (!("key" in contact) || !contact.key || !call.remote) return null; // no contact, or "Unknown number"
  const theirs = act.get("selected_number") === call.remote || act.get("numbers").some((n) => n.number === call.remote);
  return theirs ? { name: contact.name, fields: contact.fields } : null;
}

export function callCard({ act, scope }: RegionContext): HTMLElement {
  const tracker = new CallPartyTracker();
  const card = h("section", { className: "twp-call-card", "data-testid": "call-card", "aria-label": "On the call" });
  let drawn: CallParty | null = null;
  scope.watch(["call", "incoming", "contact", "numbers", "selected_number"], () => {
    const party = tracker.follow(act);
    card.hidden = !party;
    if (party === drawn) return; // the same person: keep the card (and where it is scrolled to)
    drawn = party;
    replaceChildren(card, party && [
      h("div", { className: "twp-call-card-name" }, party.name),
      recordCard(party.fields, "call-card-fields"),
    ]);
  });
  return card;
}
