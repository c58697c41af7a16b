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
  audio: SdkAudio | null;
  register(): Promise<void>;
  connect(options: { params: Record<string, string> }): Promise<SdkCall>;
  updateToken(token: string): void;
  destroy(): void;
  on(event: string, listener: (...args: any[]) => void): unknown;
}

export type DeviceFactory = (token: string) => SdkDevice;

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
