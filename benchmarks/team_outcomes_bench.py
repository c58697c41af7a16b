"""Team outcomes: analysts' journals sending to the team's service, a lead reading them back.

    python benchmarks/team_outcomes_bench.py                       # 100,000 outcomes, SQLite
    python benchmarks/team_outcomes_bench.py --outcomes 20000      # quicker
    python benchmarks/team_outcomes_bench.py --postgres            # a throwaway PostgreSQL (fsync on)
    python benchmarks/team_outcomes_bench.py --database postgresql://...   # an empty database

The real service (``serve_in_thread``: uvicorn, the store, the team API) on 127.0.0.1 with a
team secret; four analysts' tokens and a lead's.

Send. Each analyst's outcomes, in the journal's stored form, go to ``POST /api/outcomes`` in
batches of 200 (the journal's), through ``TeamClient.send_outcomes``: outcomes stored per
second. Then every batch again, as a journal does after a lost answer: all must come back
"known", and the table must hold each outcome once.

Read. The lead's ``TeamClient.outcomes()`` (every analyst's, a typed frame a page, joined at the
end): seconds, and the peak of memory allocated while reading (tracemalloc, a run of its own,
since tracing slows the run), against the baseline of the same pages kept as their JSON rows and
turned into one frame at the end. Both frames are compared.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import tempfile
import time
import tracemalloc
import uuid
from pathlib import Path

import httpx
import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))

from throwaway_postgres import ThrowawayPostgres, unavailable_reason  # noqa: E402

from twilio_widget.routing import CallerRoute, RoutingSettings, Store, serve_in_thread  # noqa: E402
from twilio_widget.routing.team import user_token  # noqa: E402
from twilio_widget.session.journal import outcomes_of_stored, stored_outcome  # noqa: E402
from twilio_widget.team_client import TeamClient  # noqa: E402

SECRET = "bench-team-secret-0123456789"
AGENTS = ("ann", "ben", "cat", "dan")
LEAD = "lea"
BATCH = 200
MAX_OUTCOMES = 1_000_000
START = pd.Timestamp("2026-05-01 13:00", tz="UTC")
OUTCOMES = np.array(["connected", "no answer", "busy", "voicemail", "meeting booked"])


def settings(database: str) -> RoutingSettings:
    callers = {user: CallerRoute(user, f"+1415555{i:04d}") for i, user in enumerate((*AGENTS, LEAD))}
    return RoutingSettings(public_url="https://hooks.example.com", auth_token="0" * 32, callers=callers,
                           store_path=database, team_secret=SECRET, team_leads=frozenset({LEAD}))


def outcomes_of(count: int, seed: int) -> list[dict]:
    """``count`` outcomes as a journal sends them (the stored form, an id each, no agent)."""
    rng = np.random.default_rng(seed)
    started = START + pd.to_timedelta(np.sort(rng.integers(0, 8 * 3600, count)), unit="s")
    rows = []
    for i in range(count):
        row = stored_outcome({
            "call_sid": f"CA{seed:02d}{i:030d}", "key": int(rng.integers(0, 1_000_000)),
            "number": f"+1415{int(rng.integers(2_000_000, 9_999_999)):07d}", "field": "mobile",
            "outcome": str(OUTCOMES[i % len(OUTCOMES)]), "note": "spoke to the office manager" if i % 3 else "",
            "caller_id": "+14155550000", "started_at": started[i], "duration": int(rng.integers(0, 600)),
            "attempt": 1 + i % 3, "overrides": "", "callback_at": None, "queue": "spring",
            "recorded_at": started[i] + pd.Timedelta(seconds=90)})
        del row["agent"]
        rows.append({"outcome_id": uuid.uuid4().hex, **row})
    return rows


def send(url: str, batches: dict[str, list[list[dict]]]) -> tuple[float, int, int]:
    """Every analyst's batches, one analyst after the other: seconds, stored, known."""
    stored = known = 0
    began = time.perf_counter()
    for user, theirs in batches.items():
        client = TeamClient(url, user_token(SECRET, user))
        try:
            for batch in theirs:
                answer = client.send_outcomes(batch)
                stored, known = stored + answer["stored"], known + answer["known"]
        finally:
            client.close()
    return time.perf_counter() - began, stored, known


def read_by_pages(lead: TeamClient) -> pd.DataFrame:
    return lead.outcomes()


def read_all_rows_first(url: str) -> pd.DataFrame:
    """The baseline: the same pages, their JSON rows kept until the last, then one frame."""
    rows: list[list] = []
    after: int | None = 0
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {user_token(SECRET, LEAD)}"},
                      timeout=60) as http:
        while after is not None:
            page = http.get("/api/outcomes", params={"after": after}).json()
            rows += page["rows"]
            after = page["next"]
    return outcomes_of_stored(rows).sort_values("recorded_at", kind="stable", ignore_index=True)


def peak_bytes(read) -> tuple[int, pd.DataFrame]:
    tracemalloc.start()
    try:
        frame = read()
        return tracemalloc.get_traced_memory()[1], frame
    finally:
        tracemalloc.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--outcomes", type=int, default=100_000, help="outcomes in all (100,000)")
    parser.add_argument("--database", default=None, help="an empty PostgreSQL database (default: a SQLite file)")
    parser.add_argument("--postgres", action="store_true", help="a throwaway PostgreSQL from the machine's packages")
    args = parser.parse_args()
    count = min(max(args.outcomes, len(AGENTS)), MAX_OUTCOMES)
    if args.postgres and (reason := unavailable_reason()):
        print(f"team outcomes benchmark: no PostgreSQL ({reason})")
        return 0
    with tempfile.TemporaryDirectory() as folder, \
            (ThrowawayPostgres() if args.postgres else contextlib.nullcontext()) as server:
        database = args.database or (server.url if server else str(Path(folder) / "team.sqlite3"))
        store = Store(database)
        each = count // len(AGENTS)
        batches = {user: [rows[i:i + BATCH] for i in range(0, each, BATCH)]
                   for seed, user in enumerate(AGENTS) for rows in [outcomes_of(each, seed)]}
        total = each * len(AGENTS)
        with serve_in_thread(settings(database), store=store) as handle:
            print(f"team outcomes benchmark: {total:,} outcomes of {len(AGENTS)} analysts, "
                  f"batches of {BATCH}, store {'PostgreSQL' if server or args.database else 'SQLite'}")
            seconds, stored, known = send(handle.url, batches)
            print(f"send    POST /api/outcomes                     {seconds:8.2f} s   "
                  f"{total / seconds:9,.0f} outcomes/s   stored {stored:,}, known {known:,}")
            again, stored_again, known_again = send(handle.url, batches)
            in_table = len(store.team_outcomes(limit=MAX_OUTCOMES + 1)[0])
            print(f"again   the same batches (answers lost)        {again:8.2f} s   "
                  f"{total / again:9,.0f} outcomes/s   stored {stored_again:,}, known {known_again:,}; "
                  f"in the table {in_table:,}")

            lead = TeamClient(handle.url, user_token(SECRET, LEAD))
            try:
                began = time.perf_counter()
                frame = read_by_pages(lead)
                ours_seconds = time.perf_counter() - began
                began = time.perf_counter()
                baseline = read_all_rows_first(handle.url)
                base_seconds = time.perf_counter() - began
                ours_peak, _ = peak_bytes(lambda: read_by_pages(lead))
                base_peak, _ = peak_bytes(lambda: read_all_rows_first(handle.url))
            finally:
                lead.close()
        store.close()
    same = frame.equals(baseline)
    frame_bytes = int(frame.memory_usage(deep=True).sum())
    print(f"read    TeamClient.outcomes(), a frame a page  {ours_seconds:8.2f} s   "
          f"{len(frame) / ours_seconds:9,.0f} rows/s   peak {ours_peak / 2**20:7.1f} MiB "
          f"(the frame itself {frame_bytes / 2**20:.1f} MiB)")
    print(f"        baseline: every page's rows, then one frame  {base_seconds:8.2f} s"
          f"   peak {base_peak / 2**20:7.1f} MiB   same frame: {same}")
    print(f"ratio   peak memory, baseline / ours: {base_peak / ours_peak:.2f}x;"
          f" time, baseline / ours: {base_seconds / ours_seconds:.2f}x")
    print(f"machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f} (1 min) at the end")
    ok = same and stored == total and stored_again == 0 and known_again == total and in_table == total
    print("checks: each outcome stored once, sent twice counted once, both reads the same frame:",
          "yes" if ok else "NO")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
