// The last error the user should see, with what they can do about it, until dismissed.

import { h, replaceChildren } from "./dom";
import type { RegionContext } from "./region";
import { VOICE_HINTS } from "./sdk";

const HINTS: Record<number, string> = {
  ...VOICE_HINTS,
  21211: "Check the number: Twilio could not read it as a phone number.",
  21610: "This person replied STOP; they must text START before you can message them.",
  20003: "Check the Account SID and Auth Token (or API key) in your configuration.",
};

export function errorBox({ act, scope }: RegionContext): HTMLElement {
  const box = h("div", { className: "twp-error", role: "alert" });
  scope.watch(["error"], () => {
    const error = act.get("error");
    box.hidden = !error;
    if (!error) return replaceChildren(box);
    const hint = error.hint ?? (error.code ? HINTS[error.code] : undefined);
    replaceChildren(box,
      h("span", { className: "twp-error-text", "data-testid": "error-text" },
        error.code ? `${error.message} (${error.code})` : error.message),
      hint ? h("span", { className: "twp-error-hint" }, hint) : null,
      h("button", {
        className: "twp-error-close", type: "button", "aria-label": "Dismiss error", onclick: () => act.set("error", null),
      }, "✕"));
  });
  return box;
}
