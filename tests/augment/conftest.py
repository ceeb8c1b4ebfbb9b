"""Fixtures for augment tests: a tiny WordNet, the Chinese synonym resources, a fake translating LLM."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from fakellm import Reply

from datacraft.augment.script import HANS, to_script
from tests.augment.wordnet_db import write_wordnet

FIXTURES = Path(__file__).parent.parent / "fixtures" / "augment"
# What the fake translator swaps on the way back, so a round trip changes some words (as a real one does).
SWAPS = {"请": "麻烦", "一个": "某个", "简短": "简要", "Write": "Compose", "short": "brief", "Describe": "Depict",
         "good": "fine", "Explain": "Clarify"}


@pytest.fixture(scope="session")
def wordnet_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_wordnet(tmp_path_factory.mktemp("wordnet"))


@pytest.fixture(scope="session")
def chinese():
    from datacraft.augment.synonyms_zh import default_chinese_synonyms

    return default_chinese_synonyms()


def prompt_parts(body: dict) -> tuple[str, str, list[str]]:
    """(source language, target language, texts) from a translation request."""
    content = body["messages"][-1]["content"]
    match = re.search(r"from (.+?) to (.+?)\.\n", content)
    assert match, content
    return match.group(1), match.group(2), json.loads(content.strip().splitlines()[-1])


def fake_translation(body: dict, index: int) -> Reply:
    """A deterministic 'translator': to the pivot it tags each text, back it untags and swaps a few words."""
    source, target, texts = prompt_parts(body)
    out = []
    for text in texts:
        if text.startswith("<pivot:"):
            text = text[text.index(">") + 1:]
            if "Chinese" in target:
                text = to_script(text, HANS)  # a model often answers in Simplified whatever it was asked
            for old, new in SWAPS.items():
                text = text.replace(old, new)
            out.append(text)
        else:
            out.append(f"<pivot:{target}>{text}")
    return Reply(json.dumps({"translations": out}, ensure_ascii=False))
