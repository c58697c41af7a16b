"""One vocabulary: the panel's TypeScript copy equals the kernel's, and the sets agree with the orders."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from twilio_widget import frames, vocabulary

VOCABULARY_TS = Path(__file__).resolve().parents[1] / "js" / "src" / "vocabulary.ts"


def panel_vocabulary() -> dict:
    """The object literal js/src/vocabulary.ts exports as VOCABULARY, read as JSON."""
    text = VOCABULARY_TS.read_text(encoding="utf-8")
    found = re.search(r"^export const VOCABULARY = (\{.*?^\}) as const;$", text, re.S | re.M)
    assert found, "js/src/vocabulary.ts must export `const VOCABULARY = {...} as const` (JSON syntax)"
    return json.loads(found.group(1))


def test_the_panel_reads_the_same_vocabulary_as_the_kernel():
    assert panel_vocabulary() == vocabulary.VOCABULARY, "run: python scripts/vocabulary_ts.py"


def test_the_vocabulary_is_plain_json():
    assert json.loads(json.dumps(vocabulary.VOCABULARY)) == vocabulary.VOCABULARY


def test_every_status_has_a_rank_and_final_ones_rank_last():
    assert set(vocabulary.CALL_STATUSES) | set(vocabulary.CALL_STATUS_ALIASES) == set(vocabulary.CALL_RANK)
    assert set(vocabulary.MESSAGE_STATUSES) <= set(vocabulary.MESSAGE_RANK)
    assert set(vocabulary.RECORDING_STATUSES) <= set(vocabulary.RECORDING_RANK)
    top = max(vocabulary.CALL_RANK.values())
    assert {s for s, rank in vocabulary.CALL_RANK.items() if rank == top} == vocabulary.FINAL_CALL_STATUSES


def test_a_call_is_active_or_over_never_both():
    assert not vocabulary.ACTIVE_CALL_STATUSES & vocabulary.FINAL_CALL_STATUSES
    assert set(vocabulary.CALL_STATUSES) <= vocabulary.ACTIVE_CALL_STATUSES | vocabulary.FINAL_CALL_STATUSES
    assert vocabulary.ANSWERED_DIAL_STATUSES.issubset(vocabulary.DIAL_CALL_STATUSES)


@pytest.mark.parametrize(("body", "asks"), [("stop", "out"), (" Stop all! ", "out"), ("START", "in"),
                                            ("stop calling me", None), (None, None)])
def test_a_whole_message_keyword_opts_out_or_in(body, asks):
    assert vocabulary.opt_keyword(body) == asks


def test_the_vocabulary_has_one_home():
    """frames.py keeps the schemas only: the statuses and keywords are vocabulary.py's."""
    for name in ("ACTIVE_CALL_STATUSES", "FINAL_CALL_STATUSES", "PENDING_MESSAGE_STATUSES", "opt_keyword"):
        assert not hasattr(frames, name)
