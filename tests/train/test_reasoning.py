"""Reasoning templates (Qwen3-style `<think>` blocks) and pairing predictions with their records."""

import json

import pytest

pytest.importorskip("torch")

from datacraft.train.data import IGNORE, encode_record, encode_records  # noqa: E402
from datacraft.train.metrics import exact_match, score  # noqa: E402
from datacraft.train.tiny import build_tokenizer  # noqa: E402

# Hand-written in the shape of Qwen3's template: the assistant turn after the last user message
# gets a <think> block (empty unless reasoning is given), earlier assistant turns get none, and the
# generation prompt opens an assistant turn. So a turn renders differently once later turns follow.
QWEN3_STYLE = (
    "{%- set ns = namespace(last=0) -%}"
    "{%- for m in messages %}{% if m['role'] == 'user' %}{% set ns.last = loop.index0 %}{% endif %}{% endfor -%}"
    "{%- for m in messages -%}"
    "{%- if m['role'] == 'assistant' -%}"
    "{%- if loop.index0 > ns.last -%}"
    "{{ '<|im_start|>assistant\\n<think>\\n\\n</think>\\n\\n' + m['content'] + '<|im_end|>\\n' }}"
    "{%- else -%}{{ '<|im_start|>assistant\\n' + m['content'] + '<|im_end|>\\n' }}{%- endif -%}"
    "{%- else -%}{{ '<|im_start|>' + m['role'] + '\\n' + m['content'] + '<|im_end|>\\n' }}{%- endif -%}"
    "{%- endfor -%}"
    "{%- if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif -%}"
)
RECORD = {"instruction": "And two plus two?", "output": "four", "id": "r1",
          "history": [["What is one plus one?", "two"], ["And two plus one?", "three"]]}


@pytest.fixture(scope="module")
def qwen3_tokenizer():
    from tokenizers import AddedToken

    texts = ["What is one plus one? two three four And two plus two? plus one", "<think> </think>"]
    tok = build_tokenizer(texts, vocab_size=300, chat_template=False)
    tok.add_special_tokens({"additional_special_tokens": ["<|im_start|>", "<|im_end|>"]})
    tok.add_tokens([AddedToken("<think>", special=False), AddedToken("</think>", special=False)])
    tok.eos_token = "<|im_end|>"
    tok.chat_template = QWEN3_STYLE
    return tok


def test_history_works_with_a_qwen3_style_template(qwen3_tokenizer):
    tok = qwen3_tokenizer
    example, _ = encode_record(RECORD, tok, max_length=256)
    learned = tok.decode([t for t, label in zip(example.input_ids, example.labels, strict=True) if label != IGNORE])
    # Earlier answers are learned as the full conversation renders them (no think block), the last with its own.
    assert learned.replace(" ", "") == "two<|im_end|>three<|im_end|><think>\n\n</think>\n\nfour<|im_end|>".replace(" ", "")
    full = tok.apply_chat_template([*[{"role": r, "content": c} for q, a in RECORD["history"]
                                      for r, c in (("user", q), ("assistant", a))],
                                    {"role": "user", "content": RECORD["instruction"]},
                                    {"role": "assistant", "content": "four"}], tokenize=False)
    assert tok.decode(example.input_ids) == full.rstrip("\n")
    prompt = tok.decode(example.prompt_ids)
    assert prompt.endswith("And two plus two?<|im_end|>\n<|im_start|>assistant\n")
    masked, _ = encode_record(RECORD, tok, max_length=256, mask_history=True)
    assert sum(label != IGNORE for label in masked.labels) < sum(label != IGNORE for label in example.labels)


def test_thinking_tags_are_stripped_before_scoring(qwen3_tokenizer):
    tok = qwen3_tokenizer
    generated = "<think>\n\n</think>\n\nfour"
    decoded = tok.decode(tok(generated + "<|im_end|>", add_special_tokens=False)["input_ids"], skip_special_tokens=True)
    assert "<think>" in decoded  # not special: decoding keeps the tags, as Qwen3's tokenizer does
    assert exact_match(decoded, "four") == 0.0
    examples, _ = encode_records([RECORD], tok, max_length=256)
    assert score([decoded], examples, exact_match)["score"] == 1.0


def test_predictions_pair_with_their_records_when_one_is_dropped(tiny_model, lookup_files, tmp_path):
    from datacraft.train.config import LoraSettings, TrainConfig
    from datacraft.train.run import train_model
    from tests.train.conftest import write_jsonl

    train, _ = lookup_files
    evals = [{"instruction": "Look up the key.", "input": f"k{i}", "output": f"value {i}", "id": f"e{i}"}
             for i in range(4)]
    evals.insert(1, {"instruction": "Look up the key. " * 40, "input": "k9", "output": "long", "id": "too-long"})
    eval_path = write_jsonl(tmp_path / "eval.jsonl", evals)
    cfg = TrainConfig(model=tiny_model, max_steps=2, batch_size=8, max_length=48, metric="exact_match",
                      max_new_tokens=2, lora=LoraSettings(r=4, alpha=8))
    train_model([train], str(tmp_path / "run"), cfg, eval_data=[eval_path])
    rows = [json.loads(line) for line in (tmp_path / "run" / "predictions.jsonl").read_text().splitlines()]
    by_id = {r["id"]: r["output"] for r in evals}
    assert [r["id"] for r in rows] == ["e0", "e1", "e2", "e3"]  # the dropped record leaves no gap
    assert all(r["reference"] == by_id[r["id"]] for r in rows)
