// The line above the panel that says how calls run: simulated, bridged to the user's own
// phone, or (in the browser) the Device's state when it is anything but ready. Where the page
// cannot use a microphone (VS Code outputs, some webviews), or whose registration has lapsed
// for long, it offers the user's own phone.

import { h, replaceChildren } from "./dom";
import type { RegionContext } from "./region";
import type { BridgeOffer, DeviceState } from "./types";

export function banner({ act, scope }: RegionContext): HTMLElement {
  const el = h("div", { className: "twp-banner", "data-testid": "mode-banner" });
  scope.watch(["mode", "device"], () => {
    const mode = act.get("mode");
    const device = act.get("device");
    const offer = mode === "twilio" ? device?.bridge_offer : undefined;
    const text = mode === "sandbox" ? "Sandbox: calls and messages are simulated, nothing reaches Twilio."
      : mode === "bridge" ? "Bridge mode: calls ring your own phone first, then the contact."
        : offer && device.status !== "stale" ? "This page cannot use a microphone."
          : deviceText(device);
    replaceChildren(el, text, offer ? bridgeOffer(offer, () => void act.run("cmd_use_bridge")) : null);
    el.hidden = !text;
    el.dataset.device = mode === "twilio" ? device?.status ?? "off" : "";
  });
  return el;
}

function bridgeOffer(offer: BridgeOffer, useBridge: () => void): HTMLElement {
  if (!offer.number) {
    return h("span", { className: "twp-banner-offer" },
      " To call through your own phone, give the phone bridge_to=\"<your number>\" and use mode=\"bridge\".");
  }
  return h("button", {
    className: "twp-banner-offer", type: "button", "data-testid": "use-bridge", onclick: useBridge,
  }, `Call through my phone, ${offer.display}`);
}

function deviceText(device: DeviceState | undefined): string {
  switch (device?.status) {
    case "registered": return "";
    case "registering": case "starting": return "Connecting to Twilio…";
    case "offline": return "Offline: Twilio cannot be reached. Retrying…";
    case "unregistered": return "Not registered: incoming calls will not ring here.";
    case "stale": return "Not registered for a while: incoming calls will not ring here. Retrying…";
    case "error": return `Phone unavailable: ${device.error?.message ?? "see the error below"}`;
    default: return "";
  }
}
