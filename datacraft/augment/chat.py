"""Augment's adapter for chat records: each record is augmented through its Alpaca view, written in its own form.

A ShareGPT or OpenAI chat of user/assistant turns reads as Alpaca (its last exchange is
`instruction`/`output`, the earlier turns `history`), so the methods rewrite its last exchange;
the copy is converted back to the source's form. Records with tool calls have no Alpaca form and
pass through untouched: their JSON is never rewritten.
"""

from __future__ import annotations

from typing import Any

from datacraft.records import Drop, Record, record_format, to_form

FORM_KEY = "_form"  # where the view remembers the form to write back; removed on the way out
_ALPACA_KEYS = frozenset(("instruction", "input", "output", "system", "history", "tools", "chosen", "rejected",
                          "kto_tag"))
_CHAT_KEYS = frozenset(("conversations", "messages", "system", "tools", "chosen", "rejected", "kto_tag"))


def to_view(record: Record) -> Record:
    """The Alpaca view of a chat record (extra columns, id and meta kept); other records as they are."""
    form = record_format(record)
    if form == "alpaca":
        return record
    try:
        view = to_form(record, "alpaca")
    except Drop:
        return record
    view.update({k: v for k, v in record.items() if k not in _CHAT_KEYS})
    view[FORM_KEY] = form
    return view


def from_view(record: Record) -> Record:
    """A record written back in the form `to_view` read it in."""
    if FORM_KEY not in record:
        return record
    form = record[FORM_KEY]
    out: dict[str, Any] = to_form({k: v for k, v in record.items() if k != FORM_KEY}, form)
    out.update({k: v for k, v in record.items() if k not in _ALPACA_KEYS and k != FORM_KEY})
    return out


class FormWriter:
    """Wraps the output writer so every record leaves in its source's form."""

    def __init__(self, writer: Any):
        self._writer = writer

    def __enter__(self) -> FormWriter:
        self._writer.__enter__()
        return self

    def __exit__(self, *exc: Any) -> bool:
        return bool(self._writer.__exit__(*exc))

    @property
    def count(self) -> int:
        return self._writer.count

    def write(self, record: Record) -> None:
        self._writer.write(from_view(record))
