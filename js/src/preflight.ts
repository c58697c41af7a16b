// The SDK's preflight test (Device.runPreflight): a Device and a short test call of its own,
// run when the kernel asks (phone.preflight() or the panel's button, both through the kernel).
// Its progress is drawn by the panel; its report goes to the kernel (cmd_preflight_report),
// which judges it and answers with the verdict the panel then shows.

import type { DeviceOptions, PreflightFactory, SdkError, SdkPreflightReport } from "./sdk";
import type { Invoke, PreflightReport } from "./types";

export interface PreflightView {
  id: string;
  status: "connecting" | "connected" | "completed" | "failed";
  samples: number;
  verdict?: string;
  advice?: string;
}

const round = (value: number | undefined, digits: number) =>
  typeof value === "number" && Number.isFinite(value) ? Number(value.toFixed(digits)) : null;

/** The report the kernel keeps, from the SDK's. */
export function reportOf(id: string, report: SdkPreflightReport): PreflightReport {
  return {
    id,
    status: "completed",
    edge: report.edge ?? report.selectedEdge ?? null,
    call_sid: report.callSid ?? null,
    mos: round(report.stats?.mos.average, 2),
    mos_min: round(report.stats?.mos.min, 2),
    rtt: round(report.stats?.rtt.average, 1),
    jitter: round(report.stats?.jitter.average, 1),
    call_quality: report.callQuality ?? null,
    warnings: [...new Set(report.warnings.map((w) => w.name))],
    error: null,
  };
}

function failedReport(id: string, err: SdkError): PreflightReport {
  const code = typeof err?.code === "number" ? err.code : null;
  return {
    id, status: "failed", edge: null, call_sid: null, mos: null, mos_min: null, rtt: null, jitter: null,
    call_quality: null, warnings: [], error: { message: err?.description || err?.message || "The test failed", code },
  };
}

export class PreflightRunner {
  view: PreflightView | null = null;

  constructor(private run: PreflightFactory, private invoke: Invoke, private changed: () => void) {}

  get running(): boolean {
    return this.view?.status === "connecting" || this.view?.status === "connected";
  }

  start(id: string, token: string, options: DeviceOptions): void {
    this.show({ id, status: "connecting", samples: 0 });
    let test;
    try {
      test = this.run(token, options);
    } catch (err) {
      void this.finish(failedReport(id, err as SdkError));
      return;
    }
    test.on("connected", () => this.show({ ...this.view!, status: "connected" }));
    test.on("sample", () => this.show({ ...this.view!, samples: (this.view?.samples ?? 0) + 1 }));
    test.on("completed", (report: SdkPreflightReport) => void this.finish(reportOf(id, report)));
    test.on("failed", (err: SdkError) => void this.finish(failedReport(id, err)));
  }

  /** A test that could not start (no token, one already running) still ends with a report; the
   *  test already running keeps the panel. */
  fail(id: string, err: SdkError): void {
    void this.finish(failedReport(id, err), !this.running);
  }

  private async finish(report: PreflightReport, shown = true): Promise<void> {
    const status = report.status as "completed" | "failed";
    if (shown) this.show({ id: report.id, status, samples: this.view?.samples ?? 0 });
    try {
      const answer = await this.invoke("cmd_preflight_report", { ...report });
      if (answer.ok && shown && this.view?.id === report.id) {
        this.show({ ...this.view, verdict: String(answer.verdict), advice: String(answer.advice) });
      }
    } catch (err) {
      console.warn("twilio-widget: the preflight report did not reach the kernel", err);
    }
  }

  private show(view: PreflightView): void {
    this.view = view;
    this.changed();
  }
}
