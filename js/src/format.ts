// How times, durations and statuses read on the panel.

import { ACTIVE_CALL_STATUSES } from "./vocabulary";

export function formatDuration(totalSeconds: number): string {
  const seconds = Math.max(0, Math.floor(totalSeconds));
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  const mm = h ? String(m).padStart(2, "0") : String(m);
  return `${h ? `${h}:` : ""}${mm}:${String(s).padStart(2, "0")}`;
}

export function elapsedSince(iso: string | null | undefined, now: number = Date.now()): number {
  if (!iso) return 0;
  const started = Date.parse(iso);
  return Number.isNaN(started) ? 0 : Math.max(0, (now - started) / 1000);
}

export function formatWhen(iso: string | null, now: Date = new Date()): string {
  if (!iso) return "";
  const when = new Date(iso);
  if (Number.isNaN(when.getTime())) return "";
  const sameDay = when.toDateString() === now.toDateString();
  const time = when.toLocaleTimeString(undefined, { hour: "2-digit", minute: "2-digit" });
  if (sameDay) return time;
  const date = when.toLocaleDateString(undefined, { month: "short", day: "numeric" });
  return `${date}, ${time}`;
}

const CALL_STATUS_TEXT: Record<string, string> = {
  queued: "Connecting…",
  initiated: "Connecting…",
  connecting: "Connecting…",
  ringing: "Ringing…",
  "in-progress": "In call",
  reconnecting: "Reconnecting…",
  completed: "Call ended",
  busy: "Busy",
  "no-answer": "No answer",
  failed: "Call failed",
  canceled: "Canceled",
};

// Bridge mode rings the user's own phone first: say so until the contact's leg reports.
const BRIDGE_STATUS_TEXT: Record<string, string> = {
  queued: "Ringing your phone…",
  initiated: "Ringing your phone…",
  ringing: "Ringing your phone…",
  "in-progress": "Connecting to the contact…",
};

export function bridgeStatusText(status: string | undefined, leg: string | undefined): string {
  return (leg === "you" && status && BRIDGE_STATUS_TEXT[status]) || callStatusText(status);
}

export function callStatusText(status: string | undefined): string {
  return (status && CALL_STATUS_TEXT[status]) || status || "";
}

export function isActive(status: string | undefined): boolean {
  return !!status && ACTIVE_CALL_STATUSES.has(status);
}
