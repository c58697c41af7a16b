"""Calling rules at scale: may each of a million leads be called now, and if not, when?

    python benchmarks/rules_bench.py                 # 1,000,000 leads
    python benchmarks/rules_bench.py --rows 100000   # quicker

``CallingRules.can_call`` against the named baseline, a per-row loop over phonenumbers and
zoneinfo (``tests/rules/reference.py``: ``phonenumbers.parse`` and its time-zone lookup per
number, then each zone's window in ``zoneinfo``, moving to the next window start until every
zone is open). The baseline's speed is measured on a random sample and extrapolated (a
million rows of it take minutes of a shared machine); its answers on that sample are compared
with can_call's, row by row: allowed, and the next allowed instant. The leads are US numbers
over every area code and a share of international ones; one instant, a weekday afternoon in
New York, so some zones are open and some are not. Timings are the best of ``--rounds``.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
from phonenumbers.tzdata import TIMEZONE_DATA

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.rules.reference import verdict  # noqa: E402
from twilio_widget.config.hours import CallingHours  # noqa: E402
from twilio_widget.rules import CallingRules, DoNotCall  # noqa: E402

INTERNATIONAL = ["+44791112", "+61291234", "+91981234", "+55119876", "+81312345", "+49301234", "+52551234"]


def leads(rows: int, seed: int = 7) -> pd.Series:
    rng = np.random.default_rng(seed)
    area_codes = np.array(sorted(k[1:] for k in TIMEZONE_DATA if len(k) == 4 and k[0] == "1"))
    us = "+1" + pd.Series(area_codes[rng.integers(0, len(area_codes), rows)]) + pd.Series(
        rng.integers(2_000_000, 9_999_999, rows).astype(str))
    abroad = pd.Series(np.array(INTERNATIONAL)[rng.integers(0, len(INTERNATIONAL), rows)]) + pd.Series(
        rng.integers(1000, 9999, rows).astype(str))
    return us.where(rng.random(rows) < 0.9, abroad).astype("str")


def best_of(rounds: int, work) -> tuple[float, object]:
    best, result = float("inf"), None
    for _ in range(rounds):
        start = time.perf_counter()
        result = work()
        best = min(best, time.perf_counter() - start)
    return best, result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--sample", type=int, default=3_000, help="rows the per-row baseline runs on")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    numbers = leads(args.rows)
    at = pd.Timestamp("2026-07-07 19:30", tz="UTC")  # a Tuesday: 15:30 in New York, 4:30 in Tokyo
    hours = CallingHours.parse({"sat": "10:00-18:00", "sun": "closed"})
    with tempfile.TemporaryDirectory() as folder:
        rules = CallingRules(hours, DoNotCall(Path(folder) / "bench.sqlite3"))
        rules.can_call(numbers.head(100), at)  # tables built once per process, as in a notebook
        vectorised, verdicts = best_of(args.rounds, lambda: rules.can_call(numbers, at))
        rules.close()

    rng = np.random.default_rng(11)
    sample = rng.choice(len(numbers), size=min(args.sample, len(numbers)), replace=False)
    moment = at.to_pydatetime()
    per_row, answers = best_of(1, lambda: [verdict(numbers.iloc[i], moment, hours) for i in sample])
    baseline = per_row / len(sample) * len(numbers)

    mismatches = 0
    for position, (allowed, next_allowed) in zip(sample, answers, strict=True):
        row = verdicts.iloc[position]
        same_next = (pd.isna(row["next_allowed"]) and next_allowed is None) or row["next_allowed"] == next_allowed
        mismatches += (bool(row["allowed"]) != allowed) or not same_next

    print(f"leads: {len(numbers):,} ({verdicts['allowed'].mean():.1%} may be called at {at.isoformat()})")
    print(f"can_call (vectorised):              {vectorised:8.3f} s  best of {args.rounds}")
    print(f"baseline, per-row loop over phonenumbers + zoneinfo: {baseline:8.1f} s "
          f"(extrapolated from {len(sample):,} rows: {per_row:.2f} s)")
    print(f"ratio (baseline / can_call):        {baseline / vectorised:8.1f}x")
    print(f"identical answers on the sample:    {'yes' if not mismatches else f'NO, {mismatches} differ'}")
    ok = not mismatches and vectorised < 2.0 * len(numbers) / 1_000_000 and baseline / vectorised >= 20
    print("targets (< 2 s per million, >= 20x, identical):", "met" if ok else "NOT met")
    return 0 if not mismatches else 1


if __name__ == "__main__":
    sys.exit(main())
