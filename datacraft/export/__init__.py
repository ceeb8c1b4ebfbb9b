"""Export to LLaMA-Factory: Alpaca, ShareGPT or OpenAI chat files, a leak-free split, dataset_info.json."""

from datacraft.export.dataset_info import dataset_entry, merge_dataset_info
from datacraft.export.files import export_dataset, output_issues
from datacraft.export.formats import (
    alpaca_to_openai,
    alpaca_to_sharegpt,
    chat_text,
    convert,
    record_format,
    to_chat,
)
from datacraft.export.split import DOC_KEYS, assign_split, group_records, validation_target

__all__ = [
    "DOC_KEYS",
    "alpaca_to_openai",
    "alpaca_to_sharegpt",
    "assign_split",
    "chat_text",
    "convert",
    "dataset_entry",
    "export_dataset",
    "group_records",
    "merge_dataset_info",
    "output_issues",
    "record_format",
    "to_chat",
    "validation_target",
]
