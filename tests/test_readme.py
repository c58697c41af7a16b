"""The README's example runs as written, on the sandbox."""

from __future__ import annotations

import os
import re
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def usage_example() -> str:
    section = README.read_text().split("## Use it", 1)[1]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)


def test_the_readme_example_runs(monkeypatch):
    for name in [n for n in os.environ if n.startswith("TWILIO_")]:
        monkeypatch.delenv(name)  # the sandbox, whatever the machine's environment holds
    namespace: dict = {}
    exec(compile(usage_example(), str(README), "exec"), namespace)
    phone = namespace["phone"]
    try:
        assert phone.mode == "sandbox"
        assert phone.thread[-1]["body"] == "Thanks for your time today!"
    finally:
        phone.close()
