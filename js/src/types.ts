// The widget state the kernel syncs (trait names as in DESIGN.md) and the model API we use.

export type Tab = "numpad" | "history" | "messages";

export interface NumberButton {
  field: string;
  label: string;
  number: string;
  display: string;
}

export interface ContactCard {
  key: string;
  name: string;
  fields: Record<string, string | number | boolean | null>;
  position: number;
  count: number;
  field?: string;
}

export interface CallState {
  sid?: string;
  status?: string;
  direction?: "inbound" | "outbound";
  remote?: string;
  remote_display?: string;
  started_at?: string | null;
  muted?: boolean;
  digits?: string;
  end_reason?: string | null;
  duration?: number | null;
  leg?: "you" | "lead";
}

export interface IncomingCall {
  sid: string;
  from: string;
  display: string;
  contact: ContactCard | null;
}

export interface HistoryRow {
  sid: string;
  direction: "inbound" | "outbound";
  status: string;
  time: string | null;
  duration: number | null;
  number: string;
}

export interface ThreadRow {
  sid: string;
  direction: "inbound" | "outbound";
  body: string;
  status: string;
  time: string | null;
  error_code: number | null;
}

// The kernel's verdict on a text of the pad: why it cannot be called ("" when it can).
export interface DialpadCheck {
  dialpad: string;
  problem: string;
}

export interface PanelError {
  message: string;
  code: number | null;
  more_info?: string | null;
  hint?: string | null;
}

export interface DeviceState {
  status: "off" | "starting" | "registering" | "registered" | "unregistered" | "offline" | "error" | "destroyed";
  identity?: string;
  error?: PanelError | null;
  inputs?: { id: string; label: string }[];
  outputs?: { id: string; label: string }[];
  output_selection?: boolean;
  input?: string; // the chosen microphone's id, once the user picked one
  output?: string; // the chosen speaker's id
}

export interface State {
  selected_number: string;
  selected_display: string;
  tab: Tab;
  interpretation: "panel" | "default";
  multiple_value: boolean;
  numbers: NumberButton[];
  dialpad: string;
  dialpad_check: DialpadCheck;
  contact: ContactCard | Record<string, never>;
  call: CallState;
  incoming: IncomingCall | null;
  history: HistoryRow[];
  thread: ThreadRow[];
  mode: "sandbox" | "twilio" | "bridge";
  caller_id: string;
  error: PanelError | null;
  device: DeviceState;
  _phone_id: string;
  live_events: boolean;
}

// The part of anywidget's model the panel relies on; tests supply a fake with the same shape.
export interface Model {
  get<K extends keyof State>(key: K): State[K];
  set<K extends keyof State>(key: K, value: State[K]): void;
  save_changes(): void;
  on(event: string, callback: (...args: unknown[]) => void): void;
  off(event?: string | null, callback?: ((...args: unknown[]) => void) | null): void;
}

export interface CommandResponse {
  ok: boolean;
  error?: PanelError;
  [key: string]: unknown;
}

export type Invoke = (name: string, msg?: Record<string, unknown>) => Promise<CommandResponse>;
