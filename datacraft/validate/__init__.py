"""Check records against a schema (alpaca, sharegpt, openai or a JSON Schema file) and LLaMA-Factory's rules."""

from datacraft.validate.checker import Checker, get_checker, validate_record
from datacraft.validate.files import validate_files
from datacraft.validate.issues import Issue, ValidationIssue
from datacraft.validate.report import ValidationReport
from datacraft.validate.schemas import BUNDLED, load_schema
from datacraft.validate.stage import validation_filter

__all__ = [
    "BUNDLED",
    "Checker",
    "Issue",
    "ValidationIssue",
    "ValidationReport",
    "get_checker",
    "load_schema",
    "validate_files",
    "validate_record",
    "validation_filter",
]
