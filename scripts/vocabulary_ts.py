"""Refresh js/src/vocabulary.ts from twilio_widget/vocabulary.py: the panel's copy of the
statuses, error codes and limits the kernel uses.

    python scripts/vocabulary_ts.py

Only the ``VOCABULARY`` object literal is rewritten (as JSON, which TypeScript reads as is);
the rest of the file (comments, types, the sets made from the literal) is the panel's own.
tests/test_vocabulary.py reads the literal back with ``json.loads`` and fails when it differs.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
TARGET = REPO / "js" / "src" / "vocabulary.ts"
START = "export const VOCABULARY = "
END = " as const;"


def refreshed(current: str) -> str:
    """``current`` with its VOCABULARY literal replaced by the Python vocabulary's JSON."""
    sys.path.insert(0, str(REPO))
    from twilio_widget.vocabulary import VOCABULARY

    start = current.index(START) + len(START)
    end = current.index(END, start)
    return current[:start] + json.dumps(VOCABULARY, indent=2) + current[end:]


if __name__ == "__main__":
    TARGET.write_text(refreshed(TARGET.read_text(encoding="utf-8")), encoding="utf-8")
