// A call's quality as the Voice SDK measures it: the warnings raised and not yet cleared (the
// panel's chips), the worst figures of its once-a-second samples, and the microphone and
// speaker levels (the meters). Levels stay in the page; the summary goes to the kernel, which
// keeps it with the call, at most every QUALITY_REPORT_MS (and at once when the call ends).

import type { SdkCall, SdkSample } from "./sdk";
import type { CallQuality } from "./types";

export const QUALITY_REPORT_MS = 5_000;

export interface Levels {
  input: number; // 0..1, the Call's `volume` event
  output: number;
}

export class CallQualityMonitor {
  private active = new Set<string>();
  private seen = new Set<string>();
  private worst: Pick<CallQuality, "mos" | "rtt" | "jitter" | "packet_loss"> = {
    mos: null, rtt: null, jitter: null, packet_loss: null,
  };
  private samples = 0;
  private lastSent = -Infinity;
  private trailing: ReturnType<typeof setTimeout> | null = null;
  levels: Levels = { input: 0, output: 0 };

  constructor(
    call: SdkCall,
    private send: (quality: CallQuality) => void,
    private changed: (what: "warnings" | "levels") => void,
  ) {
    call.on("warning", (name: string) => this.warn(name, true));
    call.on("warning-cleared", (name: string) => this.warn(name, false));
    call.on("sample", (sample: SdkSample) => this.sample(sample));
    call.on("volume", (input: number, output: number) => {
      this.levels = { input, output };
      this.changed("levels");
    });
  }

  get warnings(): string[] {
    return [...this.active];
  }

  summary(): CallQuality {
    return { warnings: this.warnings, seen: [...this.seen], samples: this.samples, ...this.worst };
  }

  /** The last summary, to send now: the call ended (null when nothing was measured). */
  finish(): CallQuality | null {
    this.cancelTrailing();
    this.levels = { input: 0, output: 0 };
    this.active.clear();
    return this.samples || this.seen.size ? this.summary() : null;
  }

  private warn(name: string, raised: boolean): void {
    if (raised) {
      this.active.add(name);
      this.seen.add(name);
    } else this.active.delete(name);
    this.changed("warnings");
    this.reportSoon();
  }

  private sample(sample: SdkSample): void {
    this.samples += 1;
    const worse = (old: number | null, value: number | null | undefined, lower: boolean) =>
      typeof value !== "number" || !Number.isFinite(value) ? old
        : old === null ? value : lower ? Math.min(old, value) : Math.max(old, value);
    this.worst = {
      mos: worse(this.worst.mos, sample.mos, true),
      rtt: worse(this.worst.rtt, sample.rtt, false),
      jitter: worse(this.worst.jitter, sample.jitter, false),
      packet_loss: worse(this.worst.packet_loss, sample.packetsLostFraction, false),
    };
    this.reportSoon();
  }

  /** At most one report every QUALITY_REPORT_MS: the first at once, the rest trailing. */
  private reportSoon(): void {
    const wait = this.lastSent + QUALITY_REPORT_MS - Date.now();
    if (wait <= 0) return this.flush();
    this.trailing ??= setTimeout(() => this.flush(), wait);
  }

  private flush(): void {
    this.cancelTrailing();
    this.lastSent = Date.now();
    this.send(this.summary());
  }

  private cancelTrailing(): void {
    if (this.trailing !== null) clearTimeout(this.trailing);
    this.trailing = null;
  }
}
