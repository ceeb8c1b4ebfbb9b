"""Reading and writing record files (JSONL, JSON, CSV/TSV, Parquet, Excel, `datasets` on disk)."""

from datacraft.io.encoding import detect_encoding, open_text
from datacraft.io.readers import (
    Row,
    apply_mapping,
    detect_format,
    iter_records,
    iter_rows,
    parse_mapping,
    read_records,
)
from datacraft.io.writers import JsonlWriter, atomic_write, check_not_input, write_records

__all__ = [
    "JsonlWriter",
    "Row",
    "apply_mapping",
    "atomic_write",
    "check_not_input",
    "detect_encoding",
    "detect_format",
    "iter_records",
    "iter_rows",
    "open_text",
    "parse_mapping",
    "read_records",
    "write_records",
]
