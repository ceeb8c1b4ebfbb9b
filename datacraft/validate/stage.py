"""The validate stage of a pipeline: keep valid records, reject the others with their first problem."""

from __future__ import annotations

from datacraft.stages import Ledger, Stage, filter_stage
from datacraft.validate.checker import get_checker


def validation_filter(ledger: Ledger, schema: str = "auto", strict: bool = False) -> Stage:
    """A filter stage ("validate") that rejects a record with its first issue's kind as the reason."""
    checker = get_checker(schema, strict)  # an unknown schema fails here, before any record flows

    def valid(record: dict) -> bool | tuple[bool, str, str]:
        issues = checker(record)
        if not issues:
            return True
        first = issues[0]
        return False, first.kind, f"{first.field}: {first.message}" if first.field else first.message

    return filter_stage("validate", valid, ledger)
