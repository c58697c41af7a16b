"""The calling session at scale: a queue over a million leads, the outcomes joined back onto
them, and the widget's state for ten leads and a million.

    python benchmarks/session_bench.py                 # 1,000,000 leads
    python benchmarks/session_bench.py --leads 100000  # quicker

Queue. ``LeadQueue`` over the leads (numbers parsed, ordered by score, highest first, the rows
without a valid number left out) and the first lead picked, against the baseline of a per-row
Python loop doing the same work: for each row ``phonenumbers.parse`` + ``is_valid_number``,
keep it if valid, then ``sorted`` by score. The loop is timed on a random sample of rows and
extrapolated (a million rows would take most of a minute of a shared machine); its order is
checked against the queue's on that sample.

Join. ``join_outcomes`` of an outcomes frame (30% of the leads called, 1-4 outcomes each) onto
the leads, against a per-row loop: the outcomes grouped by key in a dict (``itertuples``), then,
for each lead, its latest outcome, attempts, last called and next call-back. Both run on every
row, and their results are compared.

Widget state. ``get_state()`` of a phone with a session over 10 leads and over all of them,
JSON-encoded: the bytes the panel receives.

Timings are the best of ``--rounds`` runs (the machine is shared); the load average is printed.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import phonenumbers

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from twilio_widget import SandboxBackend, TwilioPhone  # noqa: E402
from twilio_widget.session import LeadQueue, join_outcomes, outcomes_frame  # noqa: E402
from twilio_widget.session.rules_link import ALLOW_EVERYTHING  # noqa: E402

TARGET_QUEUE_SECONDS = 2.0
TARGET_SPEEDUP = 20.0
NOW = pd.Timestamp("2026-05-01 15:00", tz="UTC")
AREAS = np.array([212, 213, 305, 312, 404, 415, 503, 617, 702, 713, 757, 808])


def make_leads(size: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    area = rng.choice(AREAS, size)
    line = rng.integers(0, 10_000, size)
    shapes = rng.integers(0, 3, size)
    mobile = np.where(shapes == 0, [f"({a}) 555-{n:04d}" for a, n in zip(area, line, strict=True)],
                      np.where(shapes == 1, [f"+1{a}555{n:04d}" for a, n in zip(area, line, strict=True)],
                               [f"{a}.555.{n:04d}" for a, n in zip(area, line, strict=True)]))
    mobile[rng.random(size) < 0.02] = "unknown"  # rows the queue leaves out
    return pd.DataFrame({"name": [f"Lead {i}" for i in range(size)], "mobile": mobile,
                         "score": rng.integers(0, 1000, size), "stage": rng.choice(["new", "open"], size)})


def best(rounds: int, run) -> tuple[float, object]:
    times, result = [], None
    for _ in range(rounds):
        start = time.perf_counter()
        result = run()
        times.append(time.perf_counter() - start)
    return min(times), result


# -- the queue ----------------------------------------------------------------------------

def build_queue(leads: pd.DataFrame) -> tuple[LeadQueue, list[int]]:
    queue = LeadQueue(leads, ["mobile"], order="score", ascending=False, name="name")
    return queue, queue.pick(NOW, ALLOW_EVERYTHING, count=20)


def queue_by_loop(leads: pd.DataFrame) -> list:
    """The baseline: a row at a time."""
    kept = []
    for key, number, score in zip(leads.index, leads["mobile"], leads["score"], strict=True):
        try:
            parsed = phonenumbers.parse(number, "US")
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_valid_number(parsed):
            kept.append((-score, key))
    return [key for _, key in sorted(kept, key=lambda pair: pair[0])]  # stable: ties keep the frame's order


# -- the join ------------------------------------------------------------------------------

def make_outcomes(leads: pd.DataFrame, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    called = rng.choice(leads.index.to_numpy(), int(len(leads) * 0.3), replace=False)
    keys = np.repeat(called, rng.integers(1, 5, len(called)))
    size = len(keys)
    started = NOW - pd.to_timedelta(rng.integers(0, 30 * 86400, size), unit="s")
    names = np.array(["no answer", "busy", "connected", "call back", "voicemail"])
    outcome = names[rng.integers(0, len(names), size)]
    callback = pd.Series(started + pd.Timedelta(days=7)).where(outcome == "call back")
    return outcomes_frame(pd.DataFrame({
        "call_sid": [f"CA{i:032x}" for i in range(size)], "key": keys, "number": "+14155550100",
        "field": "mobile", "outcome": outcome, "note": "", "agent": "ada", "caller_id": "+15005550006",
        "started_at": started, "duration": rng.integers(0, 600, size), "attempt": rng.integers(1, 4, size),
        "overrides": "", "callback_at": callback, "queue": "bench", "recorded_at": started,
    }).sort_values("recorded_at", kind="stable"))


def join_by_loop(leads: pd.DataFrame, outcomes: pd.DataFrame) -> list[tuple]:
    """The baseline: the outcomes by key in a dict, then each lead in turn."""
    by_key: dict = {}
    for row in outcomes.itertuples(index=False):
        by_key.setdefault(row.key, []).append(row)
    joined = []
    for key in leads.index:
        rows = by_key.get(key)
        if not rows:
            joined.append((None, 0, None, None))
            continue
        last = rows[-1]
        callback = last.callback_at if not pd.isna(last.callback_at) and last.callback_at > NOW else None
        joined.append((last.outcome, max(r.attempt for r in rows), max(r.started_at for r in rows), callback))
    return joined


def same_join(frame: pd.DataFrame, loop: list[tuple]) -> bool:
    last = frame["last_outcome"].astype(object).where(frame["last_outcome"].notna(), None).tolist()
    if last != [r[0] for r in loop] or frame["attempts"].tolist() != [r[1] for r in loop]:
        return False
    called = frame["last_called"].astype(object).where(frame["last_called"].notna(), None).tolist()
    callback = frame["next_callback"].astype(object).where(frame["next_callback"].notna(), None).tolist()
    return called == [r[2] for r in loop] and callback == [r[3] for r in loop]


# -- the widget's state --------------------------------------------------------------------

def state_bytes(leads: pd.DataFrame, journal: Path) -> int:
    phone = TwilioPhone(contacts=leads, fields=["mobile"], name="name", backend=SandboxBackend(now=NOW))
    try:
        phone.queue(leads, order="score", ascending=False, lead_name="name", journal=journal, name=f"q{len(leads)}")
        state = {k: v for k, v in phone.get_state().items() if k not in ("_esm", "_css", "_phone_id")}
        return len(json.dumps(state, default=str))
    finally:
        phone.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--leads", type=int, default=1_000_000)
    parser.add_argument("--sample", type=int, default=20_000, help="rows the per-row queue loop is timed on")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    leads = make_leads(args.leads)
    print(f"calling session benchmark: {args.leads:,} leads; best of {args.rounds} rounds")

    queue_seconds, (queue, first) = best(args.rounds, lambda: build_queue(leads))
    sample = leads.sample(min(args.sample, len(leads)), random_state=2)
    loop_seconds, loop_order = best(1, lambda: queue_by_loop(sample))
    loop_total = loop_seconds * len(leads) / len(sample)
    sample_queue = LeadQueue(sample, ["mobile"], order="score", ascending=False)
    sample_order = [sample_queue.key(p) for p in sample_queue.pick(NOW, ALLOW_EVERYTHING, count=len(sample))]
    queue_ratio = loop_total / queue_seconds
    print(f"queue   LeadQueue (parse, order, leave out, first 20 picked)   {queue_seconds:8.3f} s   "
          f"{len(queue):,} callable leads")
    print(f"        baseline: per-row loop (phonenumbers + sorted), {len(sample):,} rows timed, extrapolated "
          f"{loop_total:8.2f} s   x{queue_ratio:.1f}   same order on the sample: {loop_order == sample_order}")

    outcomes = make_outcomes(leads)
    join_seconds, joined = best(args.rounds, lambda: join_outcomes(leads, outcomes, now=NOW))
    by_loop_seconds, by_loop = best(1, lambda: join_by_loop(leads, outcomes))
    join_ratio = by_loop_seconds / join_seconds
    print(f"join    join_outcomes ({len(outcomes):,} outcomes onto {len(leads):,} leads)       "
          f"{join_seconds:8.3f} s")
    print(f"        baseline: per-row loop (itertuples + dict), every row          {by_loop_seconds:8.2f} s   "
          f"x{join_ratio:.1f}   same result: {same_join(joined, by_loop)}")

    # The same leads on the card either way (the best ten first), so only the counts differ.
    ordered = leads.sort_values("score", ascending=False, kind="stable")
    with tempfile.TemporaryDirectory() as folder:
        small = state_bytes(ordered.head(10), Path(folder) / "journal.sqlite3")
        large = state_bytes(ordered, Path(folder) / "journal.sqlite3")
    print(f"state   widget state, JSON bytes: 10 leads {small:,}, {len(leads):,} leads {large:,} "
          f"(difference {large - small:+d}: the counts' digits)")

    print(f"machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f} (1 min) at the end")
    counts_digits = 3 * len(str(len(leads)))  # position, total and open: nothing else may differ
    met = (queue_seconds < TARGET_QUEUE_SECONDS and queue_ratio >= TARGET_SPEEDUP and join_ratio >= TARGET_SPEEDUP
           and abs(large - small) <= counts_digits and loop_order == sample_order and same_join(joined, by_loop))
    print(f"targets: queue < {TARGET_QUEUE_SECONDS:.0f} s ({queue_seconds:.2f}) and >= {TARGET_SPEEDUP:.0f}x "
          f"(x{queue_ratio:.1f}); join >= {TARGET_SPEEDUP:.0f}x (x{join_ratio:.1f}); state the same size: "
          f"{'met' if met else 'NOT met'}")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
