"""Call quality in browser calls, kept in the kernel: each call's summary as the panel's Device
measured it (``phone.call_quality()``), and the Voice SDK's preflight test (``phone.preflight()``).

The panel measures, the kernel keeps and judges. A call's summary travels in the panel's call
reports and lives in the ``call`` trait (written by the calls object, as ever) while the call
lasts; this log only reads that trait and keeps each finished call's last summary. A preflight
test runs in the page: a cell cannot wait for it (the kernel reads the panel's messages only
between cells), so ``preflight()`` returns a :class:`PreflightRun` whose report fills in when
the panel sends it, and the verdict is given here, by :data:`vocabulary.PREFLIGHT_MOS`.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pandas as pd

from . import frames
from .backends.base import TwilioError
from .payloads import CallState, PreflightReport
from .vocabulary import CALL_QUALITY_WARNINGS, FINAL_CALL_STATUSES, PREFLIGHT_MOS

#: What the warnings a preflight raised call for, by the SDK's names (the panel's chips say more).
_ADVICE = {
    "high-rtt": "the line has a long delay",
    "high-jitter": "the audio will be choppy",
    "high-packet-loss": "audio is lost on the way",
    "high-packets-lost-fraction": "audio is lost on the way",
    "low-mos": "the quality is poor",
    "constant-audio-input-level": "the microphone seems silent",
}


def verdict(report: PreflightReport) -> tuple[str, str]:
    """``(verdict, advice)`` for a preflight report: good, fair, poor or failed."""
    if report["status"] != "completed":
        why = (report.get("error") or {}).get("message") or "it did not complete"
        return "failed", (f"The test call could not connect ({why}). Check the network and firewall, "
                          "or call through your own phone (bridge mode).")
    mos, edge = report.get("mos"), report.get("edge")
    where = f" through {edge}" if edge else ""
    problems = [_ADVICE[w] for w in report.get("warnings", []) if w in _ADVICE]
    if mos is not None and mos < PREFLIGHT_MOS["fair"]:
        return "poor", (f"Calls{where} will sound bad (MOS {mos:.1f}): try a wired network, another edge, "
                        "or bridge mode.")
    if mos is None or mos < PREFLIGHT_MOS["good"] or problems:
        detail = "; ".join(dict.fromkeys(problems)) or (f"MOS {mos:.1f}" if mos is not None else "no figures")
        return "fair", f"Calls{where} may sound rough ({detail}): close uploads or use a wired network."
    return "good", f"Calls{where} should sound fine (MOS {mos:.1f})."


class PreflightRun:
    """One preflight test: ``status`` is "requested" until the panel reports, then "completed"
    or "failed"; ``report`` (a dict, verdict included) and :meth:`frame` fill in then."""

    def __init__(self) -> None:
        self.id = uuid.uuid4().hex[:12]
        self.status = "requested"
        self.report: dict[str, Any] | None = None
        self.finished_at: datetime | None = None

    @property
    def done(self) -> bool:
        return self.report is not None

    def fill(self, report: PreflightReport) -> dict[str, Any]:
        shown, advice = verdict(report)
        self.report = {**report, "verdict": shown, "advice": advice}
        self.status = report["status"]
        self.finished_at = datetime.now(UTC)
        return self.report

    def frame(self) -> pd.DataFrame:
        """The report as a one-row typed frame (no rows until the panel has reported)."""
        if self.report is None:
            return frames.empty("preflight")
        report = self.report
        row = {**report, "rtt_ms": report["rtt"], "warnings": ",".join(report["warnings"]),
               "error": (report.get("error") or {}).get("message"), "finished_at": self.finished_at}
        return frames.from_records([row], "preflight")

    def __repr__(self) -> str:
        if self.report is None:
            return (f"PreflightRun(id={self.id!r}, status={self.status!r}: the panel runs the test; "
                    "its report fills in when it is done, after this cell)")
        return f"PreflightRun(id={self.id!r}, verdict={self.report['verdict']!r}: {self.report['advice']})"


class Preflights:
    """The preflight tests a phone asked its panel for, by id."""

    def __init__(self, ask_panel: Callable[[str], None]) -> None:
        self._ask_panel = ask_panel
        self._runs: dict[str, PreflightRun] = {}
        self.last: PreflightRun | None = None

    def start(self) -> PreflightRun:
        run = PreflightRun()
        self._ask_panel(run.id)  # raises when no panel can run it
        self._runs[run.id] = self.last = run
        return run

    def panel_report(self, **report: Any) -> dict[str, Any]:
        run = self._runs.get(report.get("id", ""))
        if run is None:
            raise TwilioError(f"No preflight test {report.get('id')!r} was asked for", status=404)
        filled = run.fill(checked_report(report))
        return {"verdict": filled["verdict"], "advice": filled["advice"]}


def checked_report(report: dict[str, Any]) -> PreflightReport:
    """A panel's preflight report, its keys and status checked (a ValueError names the problem)."""
    missing = set(PreflightReport.__annotations__) - set(report)
    unknown = set(report) - set(PreflightReport.__annotations__)
    if missing or unknown:
        raise ValueError(f"PreflightReport: missing {sorted(missing)}, unknown {sorted(unknown)}")
    if report["status"] not in ("completed", "failed"):
        raise ValueError(f"PreflightReport: status {report['status']!r} is not completed or failed")
    return report  # type: ignore[return-value]


class CallQualityLog:
    """Each finished browser call's quality summary, read from the ``call`` trait as it ends."""

    def __init__(self) -> None:
        self._rows: list[dict[str, Any]] = []
        self._logged: set[str] = set()

    def call_changed(self, call: CallState) -> None:
        quality, sid = call.get("quality"), call.get("sid", "")
        if not quality or call.get("status") not in FINAL_CALL_STATUSES or sid in self._logged:
            return
        self._logged.add(sid)
        known = [w for w in quality["seen"] if w in CALL_QUALITY_WARNINGS]
        self._rows.append({
            "call_sid": sid, "direction": call.get("direction"), "remote": call.get("remote"),
            "status": call.get("status"), "started_at": call.get("started_at"), "duration": call.get("duration"),
            "samples": quality["samples"], "mos": quality["mos"], "rtt_ms": quality["rtt"],
            "jitter": quality["jitter"], "packet_loss": quality["packet_loss"], "warnings": ",".join(known),
        })

    def frame(self) -> pd.DataFrame:
        return frames.from_records(self._rows, "call_quality")
