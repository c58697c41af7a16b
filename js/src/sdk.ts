// The slice of the Twilio Voice SDK the panel uses (tests supply fakes of it), and what its
// error codes mean to the user.

export interface SdkCall {
  parameters: Record<string, string>;
  customParameters?: Map<string, string>;
  accept(): void;
  reject(): void;
  disconnect(): void;
  mute(shouldMute?: boolean): void;
  isMuted(): boolean;
  sendDigits(digits: string): void;
  on(event: string, listener: (...args: any[]) => void): unknown;
}

export interface SdkAudio {
  availableInputDevices: Map<string, MediaDeviceInfo>;
  availableOutputDevices: Map<string, MediaDeviceInfo>;
  isOutputSelectionSupported: boolean;
  setInputDevice(id: string): Promise<void>;
  speakerDevices: { set(id: string | string[]): Promise<void> };
  on(event: string, listener: (...args: any[]) => void): unknown;
}

export interface SdkDevice {
  state: string;
  edge?: string | null;
  audio: SdkAudio | null;
  register(): Promise<void>;
  unregister(): Promise<void>;
  connect(options: { params: Record<string, string> }): Promise<SdkCall>;
  updateToken(token: string): void;
  destroy(): void;
  on(event: string, listener: (...args: any[]) => void): unknown;
}

// What the kernel hands out with each token: where the Device connects and what it prefers.
export interface DeviceOptions {
  edge: string[]; // [] for Twilio's default (roaming)
  codecs: string[]; // "opus", "pcmu", best first
}

export type DeviceFactory = (token: string, options: DeviceOptions) => SdkDevice;

// The SDK's PreflightTest (Device.runPreflight): a Device and a test call of its own.
export interface SdkPreflight {
  stop(): void;
  on(event: string, listener: (...args: any[]) => void): unknown;
}

// The slice of PreflightTest.Report the panel reads.
export interface SdkPreflightReport {
  callSid?: string;
  edge?: string;
  selectedEdge?: string;
  callQuality?: string;
  stats?: { mos: SdkStats; rtt: SdkStats; jitter: SdkStats };
  totals?: { packetsLost?: number; packetsReceived?: number };
  warnings: { name: string; description: string }[];
}

export interface SdkStats {
  average: number;
  max: number;
  min: number;
}

export type PreflightFactory = (token: string, options: DeviceOptions) => SdkPreflight;

// A Call's `sample` event (every second): the figures the quality summary keeps.
export interface SdkSample {
  mos: number | null;
  rtt: number;
  jitter: number;
  packetsLostFraction: number;
}

// What each of the Call's warnings (the `warning` event's name) means to the user. The names
// are the kernel's vocabulary (call_quality_warnings); these hints are the panel's.
export const WARNING_HINTS: Record<string, string> = {
  "high-rtt": "Long delay on the line: a slow or distant network.",
  "high-jitter": "Choppy audio: the network is uneven. Close uploads or move closer to the Wi-Fi.",
  "high-packet-loss": "Audio is being lost on the way: the network is dropping packets.",
  "high-packets-lost-fraction": "Audio is being lost on the way: the network is dropping packets.",
  "low-mos": "Poor call quality: the other side may hear you badly.",
  "low-bytes-received": "No audio is arriving from the other side.",
  "low-bytes-sent": "No audio is leaving: check your microphone and network.",
  "constant-audio-input-level": "Your microphone seems silent: check it is plugged in and not muted.",
  "constant-audio-output-level": "No sound from the other side.",
  "ice-connectivity-lost": "The connection dropped: reconnecting…",
};

// Short labels for the chips.
export const WARNING_LABELS: Record<string, string> = {
  "high-rtt": "Delay",
  "high-jitter": "Jitter",
  "high-packet-loss": "Packet loss",
  "high-packets-lost-fraction": "Packet loss",
  "low-mos": "Low quality",
  "low-bytes-received": "No audio in",
  "low-bytes-sent": "No audio out",
  "constant-audio-input-level": "Silent microphone",
  "constant-audio-output-level": "Silent speaker",
  "ice-connectivity-lost": "Connection lost",
};

// Hints for the SDK's errors, by code: what the user can do about each.
export const VOICE_HINTS: Record<number, string> = {
  31401: "The browser blocked the microphone: allow it for this page (the lock icon in the address bar), then call again.",
  31402: "No microphone was found: plug one in or pick another input under Audio settings.",
  20101: "The access token was refused: check the API key, secret and App SID in your configuration.",
  20104: "The access token expired: the panel asks the kernel for a new one; re-run the cell if this persists.",
  31204: "The access token was refused: check the API key, secret and App SID in your configuration.",
  31205: "The access token expired: the panel asks the kernel for a new one; re-run the cell if this persists.",
  31000: "Twilio cannot be reached: check the network; the panel keeps retrying.",
  31005: "The connection to Twilio dropped: the panel keeps retrying.",
  31009: "Twilio cannot be reached: check the network; the panel keeps retrying.",
  31208: "The microphone permission was denied: allow it for this page, then call again.",
  31486: "The callee is busy.",
  31480: "The callee is not available right now.",
  31603: "The call was declined.",
};
export const OFFLINE_CODES = new Set([31000, 31005, 31009, 53000, 53001]);
export const TOKEN_CODES = new Set([20101, 20104, 31204, 31205, 31206, 31207]);
export const EXPIRED_TOKEN_CODES = new Set([20104, 31205]);

export interface SdkError {
  code?: number;
  message?: string;
  explanation?: string;
  description?: string;
}
