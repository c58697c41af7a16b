// Audio settings: the microphone and speaker the browser's Device uses, shown only where the
// browser makes the calls (twilio mode) and the Device has listed its devices.

import { h, replaceChildren } from "./dom";
import type { RegionContext } from "./region";

interface Choice {
  label: string;
  options: { id: string; label: string }[];
  chosen: string | undefined;
  apply: (id: string) => Promise<void>;
}

export function audioSettings({ act, scope }: RegionContext): HTMLElement {
  let open = false;
  const box = h("div", { className: "twp-audio", role: "group", "aria-label": "Audio devices" });
  const toggle = h("button", {
    className: "twp-audio-toggle", type: "button", "aria-label": "Audio settings",
    onclick: () => { open = !open; draw(); },
  }, "Audio settings");

  const select = ({ label, options, chosen, apply }: Choice) =>
    h("label", { className: "twp-audio-row" }, h("span", {}, label),
      h("select", {
        className: "twp-audio-select", "aria-label": label,
        onchange: (e: Event) => void apply((e.target as HTMLSelectElement).value).catch((err) =>
          act.showError({ message: `Could not switch ${label.toLowerCase()}: ${String(err)}`, code: null })),
      }, options.map((o) => h("option", { value: o.id, selected: o.id === chosen }, o.label))));

  const draw = () => {
    const device = act.get("device");
    const usable = act.get("mode") === "twilio" && !!device?.inputs;
    box.hidden = !usable || !open;
    toggle.hidden = !usable;
    toggle.setAttribute("aria-expanded", String(open));
    if (box.hidden) return;
    // Drawn from the device state each time, chosen entries included, so a redraw never
    // shows another device than the one in use.
    replaceChildren(box,
      select({ label: "Microphone", options: device.inputs ?? [], chosen: device.input,
        apply: (id) => act.device?.setInput(id) ?? Promise.resolve() }),
      device.output_selection
        ? select({ label: "Speaker", options: device.outputs ?? [], chosen: device.output,
          apply: (id) => act.device?.setOutput(id) ?? Promise.resolve() })
        : h("p", { className: "twp-audio-note" }, "This browser plays calls on its default speaker."));
  };
  scope.watch(["device", "mode"], draw);
  return h("div", { className: "twp-audio-settings" }, toggle, box);
}
