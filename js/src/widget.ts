// anywidget entry point. initialize runs once per model: it owns the Voice SDK Device, so
// displaying the panel twice never registers (or rings) twice. render only draws a panel per
// view. Commands travel with an explicit timeout (never anywidget's 3 s default), so a busy
// kernel is reported, not mistaken for a hang.

import { Call, Device } from "@twilio/voice-sdk";
import { Panel } from "./panel";
import type { CommandResponse, Invoke, Model } from "./types";
import { type DeviceFactory, type SdkDevice, VoiceController } from "./voice";

const COMMAND_TIMEOUT_MS = 20_000;

interface Experimental {
  invoke: (name: string, msg: unknown, options?: { signal?: AbortSignal; buffers?: DataView[] }) =>
    Promise<[unknown, DataView[]]>;
}

interface Context {
  model: Model;
  experimental: Experimental;
}

// anywidget hands initialize and each render its own proxy of the model, so the registry is
// keyed by the widget's own id (a synced trait) rather than by the proxy object.
const controllers = new Map<string, VoiceController>();
const keyOf = (model: Model) => model.get("_phone_id");

/** The model's voice controller, if it is in twilio mode (one per model, shared by its views). */
export function controllerFor(model: Model): VoiceController | null {
  return controllers.get(keyOf(model)) ?? null;
}

export function commandsFor(experimental: Experimental): Invoke {
  return async (name, msg = {}) => {
    const [response] = await experimental.invoke(name, msg, {
      signal: AbortSignal.timeout(COMMAND_TIMEOUT_MS),
    });
    return response as CommandResponse;
  };
}

export const createDevice: DeviceFactory = (token) =>
  new Device(token, {
    closeProtection: "A call is in progress. Leave the page and end it?",
    codecPreferences: [Call.Codec.Opus, Call.Codec.PCMU],
    tokenRefreshMs: 30_000,
  }) as unknown as SdkDevice;

/** Start browser calling while the model is in "twilio" mode, stop it when it leaves. */
export function manageVoice(model: Model, invoke: Invoke, factory: DeviceFactory = createDevice): () => void {
  const key = keyOf(model);
  const sync = () => {
    const running = controllers.get(key);
    if (model.get("mode") === "twilio" && !running) {
      const controller = new VoiceController(model, invoke, factory);
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

function initialize({ model, experimental }: Context) {
  return manageVoice(model, commandsFor(experimental));
}

function render({ model, el, experimental }: Context & { el: HTMLElement }) {
  const panel = new Panel(model, commandsFor(experimental), () => controllerFor(model));
  el.classList.add("twilio-widget");
  el.append(panel.root);
  return () => panel.destroy();
}

export default { initialize, render };
