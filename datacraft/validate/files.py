"""Validate whole files: every record, every unreadable line, with `path:line` for each problem."""

from __future__ import annotations

from typing import Any

from datacraft.io.readers import Row, iter_jsonl_lines, iter_records
from datacraft.runner import progress
from datacraft.validate import fast
from datacraft.validate.checker import get_checker
from datacraft.validate.issues import NO_RECORDS, Issue, json_type
from datacraft.validate.report import FileCounts, ValidationReport


def validate_files(paths: list[str], *, schema: str = "alpaca", forbid_extra: bool = False, strict: bool = False,
                   max_errors: int = 50, read_options: dict[str, Any] | None = None) -> ValidationReport:
    """Check every record of `paths` against `schema` (a bundled name or a JSON Schema path).

    `forbid_extra`: unknown top-level fields and whitespace-only strings are errors too. `strict`:
    the first unreadable line raises (as in every command) instead of counting as an invalid record.
    """
    checker = get_checker(schema, forbid_extra)  # an unknown schema fails before any file is read
    report = ValidationReport(schema=schema, forbid_extra=forbid_extra, max_errors=max_errors)
    options = {k: v for k, v in (read_options or {}).items() if k != "strict"}
    options["strict"] = strict
    quick = _fast_schema(schema, checker)
    for path in paths:
        counts = FileCounts("<stdin>" if path == "-" else str(path))
        report.files.append(counts)
        rows = None
        if quick and fast.usable(str(path), options):
            # The reader and the checker see only the lines the fast check does not clear, so each
            # message, line number and warning is theirs; the cleared records are only counted.
            lines = fast.unclear_lines(str(path), quick, lambda n, counts=counts: _add(counts, n))
            rows = iter_jsonl_lines(str(path), lines)

        def on_bad(row: Row, counts: FileCounts = counts) -> None:
            # A line that is not a record is an invalid record at that line, not a crash.
            counts.records += 1
            counts.invalid += 1
            message = row.error or "unreadable row"
            if row.reason == "not_an_object":
                message = f"expected a JSON object, got {json_type(row.value)}"
            report.add(counts.path, row.line, [Issue("", message, row.reason or "unreadable")])

        for row in progress(iter_records(path, on_bad=on_bad, rows=rows, **options), "validate"):
            counts.records += 1
            issues = checker(row.value)
            if issues:
                counts.invalid += 1
                report.add(counts.path, row.line, issues)
        if counts.records == 0:
            report.add(counts.path, 0, [Issue("", "no records: the file is empty, and an empty training "
                                              "file is almost certainly a mistake", NO_RECORDS)])
        report.records += counts.records
        report.invalid += counts.invalid
    return report


def _add(counts: FileCounts, records: int) -> None:
    counts.records += records


def _fast_schema(schema: str, checker: Any) -> str | None:
    """The bundled schema fast.py can decode for `checker` (None: always the full path).

    `auto` checks a record with Alpaca's keys alone (all the fast path accepts) as Alpaca.
    """
    name = "alpaca" if schema == "auto" else schema
    if checker.strict or not fast.supported(name):
        return None
    alpaca = checker if schema != "auto" else get_checker(name, False)
    return name if getattr(alpaca, "fast", False) else None
