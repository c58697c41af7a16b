"""The README's calling-session example runs as written, on the sandbox."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

README = Path(__file__).resolve().parents[2] / "README.md"


def session_example() -> str:
    section = README.read_text().split("## A calling session", 1)[1]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)


def test_the_readme_session_example_runs(phone, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    leads = pd.DataFrame({"name": ["Ada", "Alan", "Grace"], "company": ["A", "B", "C"],
                          "mobile": ["(415) 555-0100", "415.555.0101", "212 555 0102"],
                          "stage": ["new", "new", "new"], "score": [1, 3, 2]})
    namespace = {"phone": phone, "leads": leads}
    exec(compile(session_example(), str(README), "exec"), namespace)
    assert phone.outcomes[["key", "outcome"]].values.tolist() == [[1, "meeting booked"], [2, "call back"]]
    assert (tmp_path / "calls.sqlite3").exists()
    assert len(namespace["activity"].by_outcome) == 2
