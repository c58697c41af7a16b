"""Sending through a backend with the store's rules: a body Twilio would refuse and opt-outs
block, failures wait in the outbox.

The widget's send command can call :func:`send_message` instead of ``backend.send_message``
when a store is at hand; :func:`retry_outbox` sends what failed before.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..backends.base import TwilioError, body_refused
from ..rules.enforce import check_text
from ..vocabulary import OPTED_OUT
from .store import OptedOutError, Store

if TYPE_CHECKING:
    from ..rules import CallingRules


def _send(backend: Any, to: str, from_: str, body: str, status_callback: str | None) -> dict[str, Any]:
    return backend.send_message(to, from_, body, status_callback=status_callback or None)


def send_message(
    backend: Any,
    store: Store,
    to: str,
    from_: str,
    body: str,
    *,
    status_callback: str | None = None,
    rules: CallingRules | None = None,
) -> dict[str, Any]:
    """Send one SMS: refuse opted-out numbers (and, given ``rules``, the do-not-call list), record
    what was sent, keep what failed.

    Raises :class:`TwilioError` (code 21610 for an opted-out recipient, 21602 or 21617 for a
    body Twilio would refuse, Twilio's own code otherwise); a failed send is added to the outbox
    with its error before raising. A refused body is not: no retry would ever send it.
    """
    refused = body_refused(body)
    if refused:
        raise refused
    if rules is not None:
        check_text(rules, to)
    try:
        store.check_can_send(to)
    except OptedOutError as exc:
        raise TwilioError(str(exc), code=OPTED_OUT) from None
    try:
        record = _send(backend, to, from_, body, status_callback)
    except TwilioError as exc:
        if exc.code == OPTED_OUT:
            store.opt_out(to, keyword=str(OPTED_OUT))
        else:
            store.outbox_add(to, from_, body, error_code=exc.code, error_message=exc.message)
        raise
    except Exception as exc:  # network and the like: keep the message for a retry
        store.outbox_add(to, from_, body, error_code=None, error_message=f"{type(exc).__name__}: {exc}")
        raise TwilioError(f"message to {to} not sent ({type(exc).__name__}); it waits in the outbox") from exc
    _remember(store, record, to, from_, body)
    return record


def retry_outbox(backend: Any, store: Store, *, status_callback: str | None = None,
                 from_: str | None = None) -> dict[str, int]:
    """Try every pending outbox message (those sent from ``from_``, when given) once. Returns
    counts: sent, failed, blocked."""
    counts = {"sent": 0, "failed": 0, "blocked": 0}
    for item in store.outbox_pending(from_=from_):
        to, from_, body = item["to_number"], item["from_number"], item["body"]
        if store.is_opted_out(to):
            store.outbox_mark_failed(item["id"], error_code=OPTED_OUT, error_message=str(OptedOutError(to)))
            counts["blocked"] += 1
            continue
        try:
            record = _send(backend, to, from_, body, status_callback)
        except TwilioError as exc:
            if exc.code == OPTED_OUT:
                store.opt_out(to, keyword=str(OPTED_OUT))
            store.outbox_mark_failed(item["id"], error_code=exc.code, error_message=exc.message)
            counts["failed"] += 1
        except Exception as exc:
            store.outbox_mark_failed(item["id"], error_message=f"{type(exc).__name__}: {exc}")
            counts["failed"] += 1
        else:
            store.outbox_mark_sent(item["id"], record.get("sid"))
            _remember(store, record, to, from_, body)
            counts["sent"] += 1
    return counts


def _remember(store: Store, record: dict[str, Any], to: str, from_: str, body: str) -> None:
    clean = {k: (None if missing_value(v) else v) for k, v in record.items()}
    sid = clean.get("sid")
    if sid:
        store.record_message(
            str(sid),
            str(clean.get("status") or "queued"),
            direction=clean.get("direction") or "outbound-api",
            from_=clean.get("from") or from_,
            to=clean.get("to") or to,
            body=clean.get("body") if clean.get("body") is not None else body,
            date_created=clean.get("date_created"),
        )


def missing_value(value: Any) -> bool:
    """None, NaN, pd.NA, pd.NaT: what a typed frame row holds for 'no value'."""
    if value is None or (isinstance(value, float) and value != value):
        return True
    return type(value).__name__ in ("NAType", "NaTType")
