"""`python -m datacraft` is the same command line as the `datacraft` script, exit codes included."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def _run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "datacraft", *args], cwd=cwd, capture_output=True, text=True,
                          check=False, timeout=120)


def test_python_m_datacraft_validates_and_reports_the_bad_line(tmp_path: Path) -> None:
    data = tmp_path / "data.jsonl"
    data.write_text('{"instruction": "Hi", "output": "Hello"}\n{"instruction": "Hi"\n', encoding="utf-8")
    done = _run("validate", str(data), "--schema", "alpaca", cwd=tmp_path)
    assert done.returncode == 1, done.stderr
    assert f"{data}:2:" in done.stdout + done.stderr


def test_python_m_datacraft_help_names_the_program(tmp_path: Path) -> None:
    done = _run("--help", cwd=tmp_path)
    assert done.returncode == 0
    assert done.stdout.startswith("Usage: datacraft ")
