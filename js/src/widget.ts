// anywidget entry point: render draws a panel per view; commands travel with an explicit
// timeout (never anywidget's 3 s default), so a busy kernel is reported, not mistaken for a hang.

import { Panel } from "./panel";
import type { CommandResponse, Invoke, Model } from "./types";

const COMMAND_TIMEOUT_MS = 20_000;

interface Experimental {
  invoke: (name: string, msg: unknown, options?: { signal?: AbortSignal; buffers?: DataView[] }) =>
    Promise<[unknown, DataView[]]>;
}

export function commandsFor(experimental: Experimental): Invoke {
  return async (name, msg = {}) => {
    const [response] = await experimental.invoke(name, msg, {
      signal: AbortSignal.timeout(COMMAND_TIMEOUT_MS),
    });
    return response as CommandResponse;
  };
}

function render({ model, el, experimental }: { model: Model; el: HTMLElement; experimental: Experimental }) {
  const panel = new Panel(model, commandsFor(experimental));
  el.classList.add("twilio-widget");
  el.append(panel.root);
  return () => panel.destroy();
}

export default { render };
