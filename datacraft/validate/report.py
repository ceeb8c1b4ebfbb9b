"""What `validate` found: counts per kind and per field, per file, and the first errors."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from datacraft.validate.issues import Issue, ValidationIssue

_INDEX = re.compile(r"\[\d+\]")


@dataclass
class FileCounts:
    path: str
    records: int = 0
    invalid: int = 0


@dataclass
class ValidationReport:
    """The outcome of validating files; `.ok` is True when every file held records and all were valid."""

    schema: str = "alpaca"
    forbid_extra: bool = False
    max_errors: int = 50
    records: int = 0
    invalid: int = 0
    total_errors: int = 0
    errors: list[ValidationIssue] = field(default_factory=list)  # the first `max_errors`
    counts: Counter[str] = field(default_factory=Counter)  # kind -> errors
    fields: Counter[str] = field(default_factory=Counter)  # field with indices dropped -> errors
    files: list[FileCounts] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.total_errors == 0

    def add(self, path: str, line: int, issues: list[Issue]) -> None:
        """Record the issues of one invalid record (or of a whole file, with line 0)."""
        for issue in issues:
            self.total_errors += 1
            self.counts[issue.kind] += 1
            # history[3] and history[7] are the same field for counting purposes.
            self.fields[_INDEX.sub("[]", issue.field) or "(record)"] += 1
            if len(self.errors) < self.max_errors:
                self.errors.append(ValidationIssue(path, line, *issue))

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able summary (the `--report` file)."""
        return {
            "ok": self.ok, "schema": self.schema, "forbid_extra": self.forbid_extra,
            "records": self.records, "invalid": self.invalid, "errors_total": self.total_errors,
            "counts": dict(self.counts.most_common()), "fields": dict(self.fields.most_common()),
            "files": [{"path": f.path, "records": f.records, "invalid": f.invalid} for f in self.files],
            "errors": [issue._asdict() for issue in self.errors],
        }

    def summary(self) -> str:
        """`N records, M invalid`."""
        return f"{self.records} record{'' if self.records == 1 else 's'}, {self.invalid} invalid"
