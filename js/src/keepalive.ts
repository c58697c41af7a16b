// Keeping a Device registered through a long session: tokens renewed on a schedule of our own
// (the SDK's tokenWillExpire fires once per token update, and not at all while a tab sleeps
// through it), a fresh registration when the page becomes visible again, and a watchdog that
// says when the registration has lapsed for long.

/** Renew when this share of the token's life has passed. */
export const REFRESH_AT = 0.75;
/** A registration missing this long (no call on) is stale: incoming calls will not ring here. */
export const STALE_MS = 90_000;
export const WATCHDOG_MS = 30_000;
/** A tab hidden this long may have lost its registration while the browser throttled its timers
 *  (the SDK renews it every 30 s): back in view, it registers afresh. Shorter absences do not. */
export const HIDDEN_MS = 30_000;

/** When to renew a token that lasts `ttlSeconds`. */
export function refreshDelayMs(ttlSeconds: number): number {
  return Math.max(10, ttlSeconds * REFRESH_AT) * 1000;
}

export class TokenSchedule {
  private timer: ReturnType<typeof setTimeout> | null = null;

  constructor(private refresh: () => void) {}

  /** Renew the token handed out now, `ttlSeconds` long, before it expires. */
  start(ttlSeconds: number): void {
    this.stop();
    this.timer = setTimeout(() => {
      this.timer = null;
      this.refresh();
    }, refreshDelayMs(ttlSeconds));
  }

  stop(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }
}

export interface Registration {
  /** The SDK's Device.state: "registered", "unregistered", "registering", "destroyed". */
  state(): string;
  busy(): boolean;
  /** Refused by Twilio (a bad token): it waits for the configuration, not for a watchdog. */
  refused(): boolean;
  register(): void;
  /** Unregister and register again: the SDK refuses register() while it thinks it is registered. */
  reregister(): void;
  stale(): void;
}

/** Re-registers on visibility and watches for a lapsed registration. */
export class RegistrationWatch {
  private lastRegistered = Date.now();
  private timer: ReturnType<typeof setInterval>;
  private readonly onVisibility = () => this.visible();
  private reportedStale = false;
  private hiddenSince: number | null = null;

  constructor(private device: Registration, private doc: Document | null = globalThis.document ?? null) {
    this.doc?.addEventListener("visibilitychange", this.onVisibility);
    this.timer = setInterval(() => this.check(), WATCHDOG_MS);
  }

  registered(): void {
    this.lastRegistered = Date.now();
    this.reportedStale = false;
  }

  stop(): void {
    this.doc?.removeEventListener("visibilitychange", this.onVisibility);
    clearInterval(this.timer);
  }

  /** A tab back from the background may have lost its registration while the browser throttled it. */
  private visible(): void {
    if (this.doc?.visibilityState !== "visible") {
      this.hiddenSince ??= Date.now();
      return;
    }
    const hiddenFor = this.hiddenSince === null ? 0 : Date.now() - this.hiddenSince;
    this.hiddenSince = null;
    if (this.device.busy()) return;
    const state = this.device.state();
    if (state === "unregistered") this.device.register();
    else if (state === "registered" && hiddenFor >= HIDDEN_MS) this.device.reregister();
  }

  private check(): void {
    if (this.device.busy() || this.device.refused() || this.device.state() === "registered") {
      this.lastRegistered = Date.now();
      return;
    }
    if (Date.now() - this.lastRegistered < STALE_MS) return;
    if (!this.reportedStale) this.device.stale();
    this.reportedStale = true;
    if (this.device.state() === "unregistered") this.device.register();
  }
}
