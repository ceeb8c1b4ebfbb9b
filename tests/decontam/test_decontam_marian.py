"""--cross-lingual with --translator marian: eval items translated by a local seq2seq model, matched like the rest.

The model is the tiny random MarianMT of tests/augment/test_marian.py: this checks the code path
(each item translated once, its translation indexed and matched), not translation quality.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

pytest.importorskip("transformers")
pytest.importorskip("torch")

from datacraft.augment.config import BacktranslateConfig  # noqa: E402
from datacraft.augment.marian import MarianTranslator  # noqa: E402
from datacraft.cli import cli  # noqa: E402
from datacraft.decontam import DecontamConfig, decontaminate_file  # noqa: E402
from tests.augment.test_marian import tiny_model  # noqa: E402


def test_marian_translations_are_matched(tmp_path: Path) -> None:
    model = tiny_model(tmp_path / "opus-mt-zh-en")
    question = "你好 世界 早上 好 汽车 很 快 你好 世界 早上 好 汽车 很 快"
    (tmp_path / "bench.jsonl").write_text(json.dumps({"id": "q1", "instruction": question}, ensure_ascii=False) + "\n",
                                          encoding="utf-8")
    translator = MarianTranslator({"zh-en": model}, BacktranslateConfig(translator="marian", max_length=24))
    translation = translator.translate_sync([question], "zh", "en")[0]
    assert isinstance(translation, str) and translation.strip()
    rows = [{"id": "leak", "instruction": translation, "output": "42"},
            {"id": "other", "instruction": "Explain photosynthesis in plants.", "output": "Light becomes sugar."}]
    train = tmp_path / "train.jsonl"
    train.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    config = DecontamConfig(cross_lingual=True, translate_to=["en"], translator="marian", model_dirs={"zh-en": model},
                            marian_max_length=24)
    result = decontaminate_file([str(train)], str(tmp_path / "o.jsonl"), against=[str(tmp_path / "bench.jsonl")],
                                rejects=str(tmp_path / "r.jsonl"), config=config)
    assert result["report"]["translation"] == {"views": 1, "failed": 0}
    rejected = [json.loads(line) for line in (tmp_path / "r.jsonl").read_text().splitlines()]
    assert [(r["record"]["id"], r["reason"], r["eval_id"]) for r in rejected] == [("leak", "eval_overlap_translated", "q1")]


def test_marian_without_model_dir_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "bench.jsonl").write_text('{"instruction": "你好 世界"}\n', encoding="utf-8")
    result = CliRunner().invoke(cli, ["decontaminate", str(tmp_path / "bench.jsonl"), "--against",
                                      str(tmp_path / "bench.jsonl"), "-o", str(tmp_path / "o.jsonl"),
                                      "--cross-lingual", "--translator", "marian"])
    assert result.exit_code == 2
    assert "--translator marian needs --model-dir" in result.output
