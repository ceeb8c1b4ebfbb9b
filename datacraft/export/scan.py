"""Export's first pass: each record converted and checked once, its output bytes spooled for the second.

The scan keeps, per record, a few ints (the group table) and a language tag; the record itself
waits in a `RowSpool` as the JSON bytes the second pass writes (its training row, its id and its
meta), so that pass copies bytes instead of parsing and serialising every record again.
"""

from __future__ import annotations

import io
import tempfile
from collections.abc import Iterator
from typing import Any, NamedTuple

import orjson

from datacraft.errors import ConfigError
from datacraft.export.dataset_info import OPTIONAL_COLUMNS
from datacraft.export.split import Clusterer, Grouper, dedupe_group, link_duplicates
from datacraft.io.writers import dumps_json
from datacraft.records import Conversation, Record, conversation_text, turns_text
from datacraft.textutil import languages

_ANSWERS = ("chosen", "rejected", "kto_tag")
# Column order in the written files, per format; optional columns appear only when mapped.
FIELD_ORDER = {"alpaca": ("instruction", "input", "output", "system", "history", "tools", *_ANSWERS),
               "sharegpt": ("conversations", "system", "tools", *_ANSWERS), "openai": ("messages", *_ANSWERS)}
EMPTY = {"system": "", "history": [], "tools": ""}
SPOOL_BYTES = 32 << 20  # rows held in memory before the spool moves to a temp file
_LANGUAGE_BATCH = 256  # texts tagged at once (textutil.languages): large enough for numpy, small in memory


def fill(fields: Record, fmt: str, present: set[str]) -> Record:
    """Columns in FIELD_ORDER; an optional column in `present` is given to every record (empty if unset)."""
    optional = OPTIONAL_COLUMNS[fmt]
    return {k: (fields.get(k) or EMPTY[k]) if k in optional else fields[k]
            for k in FIELD_ORDER[fmt] if k in present or (k not in optional and k in fields)}


class Converted(NamedTuple):
    """A record as export's check passed it: its training fields, its conversation's text, the record."""

    fields: Record
    text: str
    record: Record


def converted(fields: Record, chat: Conversation, record: Record) -> Converted:
    """The scan's input for one record: `chat` is `conversation(record)`, `fields` its form."""
    return Converted(fields, turns_text(chat), record)


class Row(NamedTuple):
    """One spooled record: the optional columns it has (bits), its training row, id and meta as JSON."""

    columns: int
    row: bytes
    id: bytes
    meta: bytes


class RowSpool:
    """Rows kept aside in arrival order: in memory up to `limit` bytes, then in a self-deleting temp file.

    Rows are kept as lines in one buffer, not as one bytes object each: orjson's outputs each
    leave a hole in the heap, and 20,000 of them held at once cost 150 MB more than their size.
    """

    def __init__(self, limit: int | None = None):
        self.limit = SPOOL_BYTES if limit is None else limit
        self._file: Any = io.BytesIO()
        self._spilled = False

    def append(self, row: Row) -> None:
        # Compact JSON holds no raw tab or newline (orjson escapes them in strings): safe separators.
        self._file.write(b"%d\t%b\t%b\t%b\n" % row)
        if not self._spilled and self._file.tell() > self.limit:
            self._spill()

    def _spill(self) -> None:
        # TemporaryFile has no name on POSIX: nothing is left behind, whatever happens to the process.
        spill = tempfile.TemporaryFile(prefix="datacraft-export-", buffering=1 << 20)
        spill.write(self._file.getbuffer())
        self._file, self._spilled = spill, True

    def __iter__(self) -> Iterator[Row]:
        self._file.flush()
        self._file.seek(0)
        try:
            for line in self._file:
                columns, row, rid, meta = line[:-1].split(b"\t")
                yield Row(int(columns), row, rid, meta)
        finally:
            self._file.seek(0, io.SEEK_END)  # a later append goes after the rows, as before the replay

    def close(self) -> None:
        self._file.close()


class Scan:
    """The first pass over the converted records: groups, strata and columns, rows spooled.

    Memory holds a few ints per record (the group table) and a language tag, never the records.
    """

    def __init__(self, fmt: str, group_duplicates: bool, stratify: bool, cluster: Clusterer | None,
                 spool_limit: int | None = None):
        from datacraft.dedupe import DedupeConfig

        self.fmt, self.group_duplicates, self.stratify, self.cluster = fmt, group_duplicates, stratify, cluster
        default = DedupeConfig()
        # Dedupe's clusters stand in for export's own only when export would cluster as dedupe did.
        self.reuse = group_duplicates and cluster is None
        self.threshold, self.fields = default.threshold or 0.0, default.fields
        self.optional = OPTIONAL_COLUMNS[fmt]
        self.grouper = Grouper()
        self.spool = RowSpool(spool_limit)
        self.strata: list[str] = []
        self._pending: list[str] = []  # texts not yet tagged
        self.present: set[str] = set()  # optional and answer columns, for dataset_info
        self.fill: set[str] = set()  # the columns each written record gets (present, less `rejected`)
        self.answers = dict.fromkeys(_ANSWERS[::2], 0)
        self.count = 0

    def add(self, item: Converted) -> None:
        fields, record = item.fields, item.record
        i = self.grouper.add(record)
        columns = 0
        own: set[str] = set()
        for bit, column in enumerate(self.optional):
            if fields.get(column):
                columns |= 1 << bit
                own.add(column)
        self.present |= own
        for column in self.answers:
            if column in fields:
                self.answers[column] += 1
        if self.stratify:
            self._pending.append(item.text)
            if len(self._pending) >= _LANGUAGE_BATCH:
                self._tag()
        if self.reuse:
            group = dedupe_group(record, self.threshold, self.fields)
            if group is None:
                self.reuse = False
            else:
                # The group is the surviving record's id: an "id" key, like augmented_from, so that a
                # survivor (group = its own id) adds no entry to the table.
                self.grouper.link(("id", group), i)
        # The row with the columns this record has; `rows` fills in those others have (rare). The forms
        # (records.to_alpaca, to_sharegpt, to_openai) put their keys in FIELD_ORDER and leave out empty
        # optional columns, so that row is `fields` as it is (tests/export/test_scan.py holds them to it).
        self.spool.append(Row(columns, dumps_json(fields), dumps_json(record.get("id")), dumps_json(record.get("meta"))))
        self.count += 1

    def _tag(self) -> None:
        self.strata += languages(self._pending)
        self._pending = []

    def check_answers(self) -> None:
        """Preference (chosen/rejected) and KTO columns: every record has them or none does."""
        for column, having in self.answers.items():
            if 0 < having < self.count:
                raise ConfigError(f"{having} of {self.count} records have `{column}`: LLaMA-Factory reads a file as "
                                  "preference (or KTO) data or not at all; export them separately")
            if having:
                self.present.add(column)
        self.fill = set(self.present)
        if "chosen" in self.present:
            self.present.add("rejected")

    def groups(self) -> tuple[list[int], bool]:
        """Group label per record, and whether dedupe's clusters were reused."""
        if self._pending:
            self._tag()
        if self.group_duplicates and not self.reuse and self.count:
            from datacraft.dedupe import near_duplicate_clusters

            texts = [conversation_text(orjson.loads(row.row)) for row in self.spool]
            link_duplicates(self.grouper, texts, self.cluster or near_duplicate_clusters)
        return self.grouper.labels(), self.reuse and self.count > 0

    def rows(self, in_validation: list[bool]) -> Iterator[tuple[bool, bytes, bytes, bytes]]:
        """(in validation, training row, id, meta) per record, in input order, each row with every column in `fill`."""
        need = sum(1 << bit for bit, column in enumerate(self.optional) if column in self.fill)
        for row, is_val in zip(self.spool, in_validation, strict=True):
            data = row.row
            if row.columns & need != need:
                data = dumps_json(fill(orjson.loads(data), self.fmt, self.fill))
            yield is_val, data, row.id, row.meta
