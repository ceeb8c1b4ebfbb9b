"""The MarianMT translator's code path on a tiny random encoder-decoder built here (not translation quality)."""

from __future__ import annotations

import json

import pytest

from datacraft.augment import AugmentConfig, augment_file
from datacraft.augment.marian import MarianTranslator, _target_token, parse_model_dirs
from datacraft.errors import ConfigError

transformers = pytest.importorskip("transformers")
torch = pytest.importorskip("torch")

WORDS = ("<pad> </s> <unk> >>cmn_Hans<< >>eng<< hello world good morning the car is fast 你好 世界 早上 好 "
         "汽车 很 快 ⟦1⟧ ⟦2⟧").split()


def tiny_model(path) -> str:
    """A 1-layer MarianMT model with a word-level fast tokenizer, saved like a downloaded opus-mt folder."""
    from tokenizers import Tokenizer, models, pre_tokenizers

    tokenizer = Tokenizer(models.WordLevel({w: i for i, w in enumerate(WORDS)}, unk_token="<unk>"))
    tokenizer.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    fast = transformers.PreTrainedTokenizerFast(tokenizer_object=tokenizer, pad_token="<pad>", eos_token="</s>",
                                                unk_token="<unk>")
    config = transformers.MarianConfig(
        vocab_size=len(WORDS), d_model=16, encoder_layers=1, decoder_layers=1, encoder_attention_heads=2,
        decoder_attention_heads=2, encoder_ffn_dim=32, decoder_ffn_dim=32, max_position_embeddings=64,
        pad_token_id=0, eos_token_id=1, decoder_start_token_id=0, forced_eos_token_id=1)
    torch.manual_seed(0)
    model = transformers.MarianMTModel(config)
    model.save_pretrained(path)
    fast.save_pretrained(path)
    return str(path)


@pytest.fixture(scope="module")
def model_dirs(tmp_path_factory) -> dict[str, str]:
    root = tmp_path_factory.mktemp("marian")
    return {"zh-en": tiny_model(root / "opus-mt-zh-en"), "en-zh": tiny_model(root / "opus-mt-en-zh")}


def test_batches_run_in_order_on_the_chosen_device(model_dirs):
    from datacraft.augment.config import BacktranslateConfig

    translator = MarianTranslator(model_dirs, BacktranslateConfig(batch_size=2, num_beams=2, max_length=12))
    texts = ["你好 世界", "早上 好 ⟦1⟧", "汽车 很 快", "你好"]
    out = translator.translate_sync(texts, "zh-Hans", "en")
    assert len(out) == 4 and all(isinstance(t, str) for t in out)
    assert translator.calls == 2  # 4 texts in batches of 2
    assert translator.translate_sync(texts, "zh-Hans", "en") == out  # beam search is deterministic
    tokenizer, model = translator.load("zh-en")
    assert str(next(model.parameters()).device).startswith(translator.device)
    assert _target_token(tokenizer, "zh-Hans") == ">>cmn_Hans<<" and _target_token(tokenizer, "en") == ">>eng<<"


def test_augment_with_marian_counts_every_copy(model_dirs, tmp_path):
    data = tmp_path / "in.jsonl"
    records = [{"id": "a", "instruction": "你好 世界 早上 好", "output": "汽车 很 快"},
               {"id": "b", "instruction": "hello world good morning", "output": "the car is fast"}]
    data.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    config = AugmentConfig(methods=["backtranslate"], protect_factual=False,
                           backtranslate={"translator": "marian", "model_dirs": model_dirs, "num_beams": 1,
                                          "max_length": 12})
    result = augment_file([str(data)], str(tmp_path / "out.jsonl"), rejects=str(tmp_path / "rej.jsonl"), config=config)
    stage = result["stages"]["backtranslate"]
    assert stage["read"] == 2 and stage["kept"] + stage["rejected"] == 2
    assert result["translator"] == "marian"
    known = {"drifted", "length_drift", "language_changed", "unchanged", "too_similar", "protected_span_lost"}
    assert set(stage["reasons"]) <= known | {r for r in stage["reasons"] if r.endswith(("_short", "_long"))}


def test_model_folders_are_checked_before_any_work(tmp_path, model_dirs):
    assert parse_model_dirs(["zh-en=/m/a", "/models/opus-mt-en-zh/"]) == {"zh-en": "/m/a", "en-zh": "/models/opus-mt-en-zh/"}
    with pytest.raises(ConfigError, match=r"--model-dir ./mymodel: say which direction it translates, e.g. --model-dir zh-en=./mymodel"):
        parse_model_dirs(["./mymodel"])
    with pytest.raises(ConfigError, match="no such folder"):
        MarianTranslator({"zh-en": str(tmp_path / "missing")})
    translator = MarianTranslator({"zh-en": model_dirs["zh-en"]})
    with pytest.raises(ConfigError, match=r"no model for en-zh: add --model-dir en-zh=PATH \(have: zh-en\)"):
        translator.load("en-zh")
