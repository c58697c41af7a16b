// A fake of anywidget's model for the panel's tests: holds state, records what the panel
// saved and sent, and answers commands like the kernel would.

import type { CommandResponse, Model, State } from "./types";

export function defaultState(): State {
  return {
    selected_number: "+14155550100",
    selected_display: "(415) 555-0100",
    tab: "numpad",
    interpretation: "panel",
    multiple_value: true,
    numbers: [
      { field: "mobile", label: "mobile", number: "+14155550100", display: "(415) 555-0100" },
      { field: "office", label: "office", number: "+442079460018", display: "+44 20 7946 0018" },
    ],
    dialpad: "+14155550100",
    dialpad_check: { dialpad: "+14155550100", problem: "" },
    contact: { key: "0", name: "Ada Lovelace", fields: { name: "Ada Lovelace" }, position: 0, count: 3 },
    call: {},
    incoming: null,
    history: [],
    thread: [],
    mode: "sandbox",
    caller_id: "+15005550006",
    error: null,
    device: { status: "off" },
    live_events: true,
    session: null,
    _phone_id: `phone-${Math.random().toString(36).slice(2)}`,
  };
}

type Listener = (...args: unknown[]) => void;

export class FakeModel implements Model {
  state: State;
  saves = 0;
  commands: { name: string; msg: Record<string, unknown> }[] = [];
  sent: unknown[] = []; // custom messages to the kernel (the command channel's requests)
  answers: Record<string, (msg: Record<string, unknown>) => CommandResponse> = {};
  private listeners = new Map<string, Set<Listener>>();

  constructor(overrides: Partial<State> = {}) {
    this.state = { ...defaultState(), ...overrides };
  }

  get<K extends keyof State>(key: K): State[K] {
    return this.state[key];
  }

  set<K extends keyof State>(key: K, value: State[K]): void {
    this.state = { ...this.state, [key]: value };
    this.emit(`change:${String(key)}`);
    this.emit("change");
  }

  save_changes(): void {
    this.saves += 1;
  }

  send(content: unknown): void {
    this.sent.push(content);
  }

  /** A custom message from the kernel (a command's response, a request for the Device). */
  kernelSends(content: unknown): void {
    this.emit("msg:custom", content, []);
  }

  on(event: string, callback: Listener): void {
    if (!this.listeners.has(event)) this.listeners.set(event, new Set());
    this.listeners.get(event)!.add(callback);
  }

  off(event?: string | null, callback?: Listener | null): void {
    if (!event) return this.listeners.clear();
    if (!callback) return void this.listeners.delete(event);
    this.listeners.get(event)?.delete(callback);
  }

  listenerCount(): number {
    let n = 0;
    for (const set of this.listeners.values()) n += set.size;
    return n;
  }

  /** A kernel-side change: what Python setting a trait looks like to the panel. */
  kernelSets(changes: Partial<State>): void {
    for (const [key, value] of Object.entries(changes)) this.set(key as keyof State, value as never);
  }

  invoke = async (name: string, msg: Record<string, unknown> = {}): Promise<CommandResponse> => {
    this.commands.push({ name, msg });
    const answer = this.answers[name];
    return answer ? answer(msg) : { ok: true };
  };

  private emit(event: string, ...args: unknown[]): void {
    for (const callback of [...(this.listeners.get(event) ?? [])]) callback(...args);
  }
}

/** What anywidget hands initialize and each render: a fresh proxy of the same model. */
export function proxyOf(model: Model): Model {
  return {
    get: model.get.bind(model),
    set: model.set.bind(model),
    save_changes: model.save_changes.bind(model),
    on: model.on.bind(model),
    off: model.off.bind(model),
    send: model.send.bind(model),
  };
}
