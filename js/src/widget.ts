// anywidget entry point. initialize runs once per model: it owns the Voice SDK Device, so
// displaying the panel twice never registers (or rings) twice. render only draws a panel per
// view. Both talk to the kernel through the command channel (channel.ts): custom messages, an
// explicit timeout per request, nothing of anywidget's experimental API.

import { Call, Device } from "@twilio/voice-sdk";
import { openChannel } from "./channel";
import { Panel } from "./panel";
import type { Invoke, Model } from "./types";
import type { DeviceFactory, DeviceOptions, PreflightFactory, SdkDevice, SdkPreflight } from "./sdk";
import { VoiceController } from "./voice";

// anywidget hands initialize and each render its own proxy of the model, so the registry is
// keyed by the widget's own id (a synced trait) rather than by the proxy object.
const controllers = new Map<string, VoiceController>();
const keyOf = (model: Model) => model.get("_phone_id");

/** The model's voice controller, if it is in twilio mode (one per model, shared by its views). */
export function controllerFor(model: Model): VoiceController | null {
  return controllers.get(keyOf(model)) ?? null;
}

// The kernel's options as the SDK names them: one edge as a string, several as a fallback list.
const edgeOption = (edge: string[]) => (edge.length === 0 ? undefined : edge.length === 1 ? edge[0] : edge);
const codecOption = (codecs: string[]) => codecs as Call.Codec[];

// The page's warning before it closes mid-call is the controller's (voice.ts), not closeProtection.
export const createDevice: DeviceFactory = (token, options: DeviceOptions) =>
  new Device(token, {
    codecPreferences: codecOption(options.codecs),
    edge: edgeOption(options.edge),
    tokenRefreshMs: 30_000,
  }) as unknown as SdkDevice;

// The preflight test takes one edge: the first preferred.
export const runPreflight: PreflightFactory = (token, options: DeviceOptions) =>
  Device.runPreflight(token, {
    codecPreferences: codecOption(options.codecs),
    ...(options.edge.length ? { edge: options.edge[0] } : {}),
  }) as unknown as SdkPreflight;

/** Start browser calling while the model is in "twilio" mode, stop it when it leaves. */
export function manageVoice(model: Model, invoke: Invoke, factory: DeviceFactory = createDevice,
  preflight: PreflightFactory = runPreflight): () => void {
  const key = keyOf(model);
  const sync = () => {
    const running = controllers.get(key);
    if (model.get("mode") === "twilio" && !running) {
      const controller = new VoiceController(model, invoke, factory, preflight);
      controllers.set(key, controller);
      void controller.start();
    } else if (model.get("mode") !== "twilio" && running) {
      running.destroy();
      controllers.delete(key);
    }
  };
  model.on("change:mode", sync);
  sync();
  return () => {
    model.off("change:mode", sync);
    controllers.get(key)?.destroy();
    controllers.delete(key);
  };
}

function initialize({ model }: { model: Model }) {
  const channel = openChannel(model);
  const stopVoice = manageVoice(model, channel.invoke);
  return () => {
    stopVoice();
    channel.close();
  };
}

function render({ model, el }: { model: Model; el: HTMLElement }) {
  const channel = openChannel(model);
  const panel = new Panel(model, channel.invoke, () => controllerFor(model));
  el.classList.add("twilio-widget");
  el.append(panel.root);
  return () => {
    panel.destroy();
    channel.close();
  };
}

export default { initialize, render };
