"""Fixtures shared across test folders."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # tests/fakellm.py: the fake server, also used by bench/
from fakellm import SECRET, FakeLLM  # noqa: E402
from jsonl_io import read_jsonl, write_jsonl  # noqa: E402


class JsonlIO:
    """The `jsonl` fixture: `jsonl.write(path, records)`, `jsonl.read(path)`."""

    write = staticmethod(write_jsonl)
    read = staticmethod(read_jsonl)


@pytest.fixture
def jsonl() -> JsonlIO:
    """JSON Lines helpers shared by every test folder (tests/jsonl_io.py)."""
    return JsonlIO()


@pytest.fixture
def fake_llm() -> Iterator[FakeLLM]:
    """A real OpenAI-compatible server on 127.0.0.1; script it per test (see tests/fakellm.py)."""
    with FakeLLM() as server:
        yield server


@pytest.fixture
def llm_env(monkeypatch: pytest.MonkeyPatch) -> str:
    """A known fake API key in $OPENAI_API_KEY and no ambient $OPENAI_BASE_URL; returns the key."""
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    return SECRET
