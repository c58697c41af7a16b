// The widget state the kernel syncs (trait names as in DESIGN.md), the messages of the command
// channel, and the model API we use. Each payload interface has a TypedDict of the same name in
// twilio_widget/payloads.py; tests/test_payloads.py holds the two to the same keys.

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
  caller_id?: string;
  caller_id_choice?: string;
  override?: string;
  overridden?: string;
  answered_by?: string;
  voicemail_dropped?: boolean;
  recording?: RecordingConsent; // whether the call is recorded, announced first, and why
  quality?: CallQuality; // browser calls: how the call sounded, as the panel's Device measured it
}

// Whether a call is recorded and why (the kernel's rules/consent.py decides).
export interface RecordingConsent {
  record: boolean;
  announce: boolean; // the lead hears the announcement first
  consent: string; // "all-party", "one-party", or "" when recording is off
  place: string; // the region code whose rule applied ("US-CA", "GB"; "" when unknown)
  reason: string;
}

// A browser call's quality: the warnings on now and every one raised, the worst of the
// Device's once-a-second samples (rtt and jitter in ms, packet_loss a fraction).
export interface CallQuality {
  warnings: string[];
  seen: string[];
  samples: number;
  mos: number | null;
  rtt: number | null;
  jitter: number | null;
  packet_loss: number | null;
}

// cmd_preflight_report: the SDK's preflight test, summed up (averages over the test call).
export interface PreflightReport {
  id: string;
  status: string; // completed or failed
  edge: string | null;
  call_sid: string | null;
  mos: number | null;
  mos_min: number | null;
  rtt: number | null;
  jitter: number | null;
  call_quality: string | null; // the SDK's band: excellent, great, good, fair, degraded
  warnings: string[];
  error: PanelError | null;
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
  rule?: boolean;
}

export interface PanelError {
  message: string;
  code: number | null;
  more_info?: string | null;
  hint?: string | null; // the panel's own advice for a Voice SDK code
  field?: string; // the argument at fault, when the input was
}

export interface AudioDevice {
  id: string;
  label: string;
}

// Calling through the user's own phone, offered by the kernel where the page cannot use a
// microphone (number is "" when the phone has no bridge_to: the offer then says how to set it).
export interface BridgeOffer {
  number: string;
  display: string;
}

export interface DeviceState {
  status: "off" | "starting" | "registering" | "registered" | "unregistered" | "offline" | "error" | "destroyed"
    | "stale"; // not registered for long: incoming calls will not ring here
  identity?: string;
  error?: PanelError | null;
  inputs?: AudioDevice[];
  outputs?: AudioDevice[];
  output_selection?: boolean;
  input?: string; // the chosen microphone's id, once the user picked one
  output?: string; // the chosen speaker's id
  bridge_offer?: BridgeOffer;
}

// What the panel's Device reports to the kernel, which writes the `device` and `call` traits.
// cmd_device_event: what changed on the Device (merged into `device`).
export type DeviceEvent = Partial<Omit<DeviceState, "bridge_offer">>; // the offer is the kernel's

// cmd_call_event: what the Device did with a call. A report with a direction begins a call
// (dialled or answered); the others change the current one.
export interface CallEvent {
  sid: string; // "pending" until Twilio has named the call
  status?: string;
  direction?: "inbound" | "outbound";
  remote?: string;
  muted?: boolean;
  digits?: string; // the tones just sent
  quality?: CallQuality;
}

export interface SessionLead {
  key: string;
  name: string;
  number: string;
  display: string;
  field: string;
  fields: Record<string, string | number | boolean | null>;
  zone: string; // IANA zone of the number ("UTC" where unknown)
  local_time: string | null; // the lead's wall clock now, ISO 8601 without an offset
  attempts: number;
  callback_at: string | null;
}

export interface OutcomeChoice {
  name: string;
  label: string;
  callback: boolean; // asks for a time to call back
}

// The calling session as the panel shows it (bounded whatever the number of leads).
export interface SessionView {
  queue: string;
  status: "ready" | "calling" | "outcome" | "paused" | "done";
  position: number;
  total: number;
  open: number;
  lead: SessionLead | null;
  next: SessionLead | null;
  outcomes: OutcomeChoice[];
  require_outcome: boolean;
  suggested: string;
  autodial: number | null; // seconds of countdown before dialling the next lead; null: off
  countdown: number; // grows each time a countdown should start
  call_sid: string;
  next_due: string | null;
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
  session: SessionView | null;
}

// The part of anywidget's model the panel relies on; tests supply a fake with the same shape.
export interface Model {
  get<K extends keyof State>(key: K): State[K];
  set<K extends keyof State>(key: K, value: State[K]): void;
  save_changes(): void;
  on(event: string, callback: (...args: unknown[]) => void): void;
  off(event?: string | null, callback?: ((...args: unknown[]) => void) | null): void;
  send(content: unknown, callbacks?: unknown, buffers?: ArrayBuffer[] | ArrayBufferView[]): void;
}

// The command channel over anywidget's custom messages (twilio_widget/channel.py).
// Panel -> kernel: run a command.
export interface Request {
  type: "twp:request";
  id: string;
  cmd: string;
  args: Record<string, unknown>;
}

// Kernel -> panel: a command's answer, `result` when ok, else `error`.
export interface Response {
  type: "twp:response";
  id: string;
  ok: boolean;
  result?: Record<string, unknown>;
  error?: PanelError;
}

// Kernel -> panel: ask the panel's Device to act (a call placed or controlled from a cell).
export interface DeviceRequest {
  type: "twp:device";
  action: "dial" | "hang_up" | "mute" | "digits" | "preflight";
  args: Record<string, unknown>;
}

// What the panel sees of a command: `{ok: true, ...result}` or `{ok: false, error}`.
export interface CommandResponse {
  ok: boolean;
  error?: PanelError;
  [key: string]: unknown;
}

export interface InvokeOptions {
  signal?: AbortSignal; // aborts the request early (it times out by itself anyway)
  timeoutMs?: number;
}

export type Invoke = (name: string, msg?: Record<string, unknown>, options?: InvokeOptions) => Promise<CommandResponse>;
