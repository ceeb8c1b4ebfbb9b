"""Excel workbooks as rows: every sheet, the first non-empty row as the header, merged cells filled."""

from __future__ import annotations

import datetime as dt
import zipfile
from collections.abc import Iterator
from typing import Any

from datacraft.errors import ConfigError, InputError


def iter_sheets(path: str) -> Iterator[tuple[bool, str, int, dict[str, Any]]]:
    """(several sheets?, sheet title, row number, row) for every data row of every sheet."""
    if path.lower().endswith(".xls"):
        yield from _iter_xls(path)
        return
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        # Not read-only: merged ranges are only known to a fully loaded sheet.
        book = load_workbook(path, data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, ValueError, OSError) as exc:
        raise InputError(path, f"not a readable Excel workbook: {exc}") from None
    many = len(book.worksheets) > 1
    for sheet in book.worksheets:
        _fill_merged(sheet)
        rows = sheet.iter_rows(values_only=True)
        yield from _rows(many, sheet.title, rows)


def _fill_merged(sheet: Any) -> None:
    # A merged range holds its value in the top-left cell only; every row of it means that value.
    for merged in list(sheet.merged_cells.ranges):
        value = sheet.cell(merged.min_row, merged.min_col).value
        sheet.unmerge_cells(str(merged))
        for row in range(merged.min_row, merged.max_row + 1):
            for col in range(merged.min_col, merged.max_col + 1):
                sheet.cell(row, col).value = value


def _rows(many: bool, title: str, rows: Iterator[tuple[Any, ...]]) -> Iterator[tuple[bool, str, int, dict[str, Any]]]:
    header: list[str] | None = None
    for number, cells in enumerate(rows, start=1):
        if all(c is None or (isinstance(c, str) and not c.strip()) for c in cells):
            continue
        if header is None:
            header = [_text(c) or f"column{i}" for i, c in enumerate(cells, start=1)]
            continue
        yield many, title, number, {name: _text(c) for name, c in zip(header, cells, strict=False)}


def _text(value: Any) -> str:
    """Cells as text, as a CSV export would give them (1 not 1.0, dates in ISO form)."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return value.isoformat()
    return str(value)


def _iter_xls(path: str) -> Iterator[tuple[bool, str, int, dict[str, Any]]]:
    import pandas as pd

    try:
        frames = pd.read_excel(path, dtype=str, keep_default_na=False, sheet_name=None, header=None)
    except ImportError as exc:
        raise ConfigError(f"{path}: reading .xls needs xlrd: pip install xlrd ({exc})") from None
    except Exception as exc:  # xlrd raises its own types for a bad file
        raise InputError(path, f"not a readable Excel workbook: {exc}") from None
    for title, frame in frames.items():
        rows = (tuple(r) for r in frame.itertuples(index=False, name=None))
        yield from _rows(len(frames) > 1, str(title), rows)
