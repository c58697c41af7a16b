// The line above the panel that says how calls run: simulated, bridged to the user's own
// phone, or (in the browser) the Device's state when it is anything but ready.

import { h } from "./dom";
import type { RegionContext } from "./region";
import type { DeviceState } from "./types";

export function banner({ act, scope }: RegionContext): HTMLElement {
  const el = h("div", { className: "twp-banner", "data-testid": "mode-banner" });
  scope.watch(["mode", "device"], () => {
    const mode = act.get("mode");
    const device = act.get("device");
    const text = mode === "sandbox" ? "Sandbox: calls and messages are simulated, nothing reaches Twilio."
      : mode === "bridge" ? "Bridge mode: calls ring your own phone first, then the contact."
        : deviceText(device);
    el.textContent = text;
    el.hidden = !text;
    el.dataset.device = mode === "twilio" ? device?.status ?? "off" : "";
  });
  return el;
}

function deviceText(device: DeviceState | undefined): string {
  switch (device?.status) {
    case "registered": return "";
    case "registering": case "starting": return "Connecting to Twilio…";
    case "offline": return "Offline: Twilio cannot be reached. Retrying…";
    case "unregistered": return "Not registered: incoming calls will not ring here.";
    case "error": return `Phone unavailable: ${device.error?.message ?? "see the error below"}`;
    default: return "";
  }
}
