"""What `datacraft validate` imports: nothing heavy it does not use (pydantic, jsonschema, charset detection)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from datacraft.validate import load_schema
from datacraft.validate.schemas import _SHIPPED, BUNDLED, _digest, bundled_path

ROOT = Path(__file__).resolve().parents[2]
_SCRIPT = """
import sys
from datacraft.cli import cli
try:
    cli(sys.argv[1:], standalone_mode=False)
finally:
    heavy = ("pydantic", "jsonschema", "charset_normalizer", "datacraft.textutil", "numpy")
    print(" ".join(name for name in heavy if name in sys.modules) or "none")
"""


@pytest.mark.parametrize("schema", ["alpaca", "auto"])
def test_validate_imports_nothing_heavy(tmp_path, schema):
    path = tmp_path / "data.jsonl"
    path.write_text(json.dumps({"instruction": "Hi", "output": "Hello", "id": "a:1"}) + "\n", encoding="utf-8")
    done = subprocess.run([sys.executable, "-c", _SCRIPT, "validate", str(path), "--schema", schema],
                          capture_output=True, text=True, cwd=ROOT, check=True)
    assert done.stdout.splitlines() == ["1 record, 0 invalid", "none"]


@pytest.mark.parametrize("name", BUNDLED)
def test_shipped_schemas_are_the_checked_ones(name):
    # load_schema skips the meta-schema check for a bundled file whose digest is listed: the listed
    # digest must be the shipped file's, and that file must pass the check.
    document = json.loads(bundled_path(name).read_text(encoding="utf-8-sig"))
    assert _digest(document) == _SHIPPED[name]
    Draft202012Validator.check_schema(document)
    assert load_schema(name) == (name, document)
