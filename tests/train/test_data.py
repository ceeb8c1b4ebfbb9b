import pytest

pytest.importorskip("torch")

from datacraft.errors import ConfigError, InputError  # noqa: E402
from datacraft.train.data import (  # noqa: E402
    IGNORE,
    encode_record,
    encode_records,
    label_of,
    load_records,
    split_records,
    to_messages,
)
from datacraft.train.model import load_tokenizer  # noqa: E402
from datacraft.train.tiny import build_tokenizer  # noqa: E402

RECORD = {"instruction": "Look up the key.", "input": "k3", "output": "red fox", "meta": {"task_type": "common"}}
HISTORY = {"instruction": "And k2?", "output": "blue owl", "system": "Be brief.",
           "history": [["Look up k1.", "gold cat"]]}


@pytest.fixture(scope="module")
def tok(tiny_model):
    return load_tokenizer(tiny_model)


def test_messages_order_system_history_then_turn():
    assert to_messages(HISTORY) == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Look up k1."}, {"role": "assistant", "content": "gold cat"},
        {"role": "user", "content": "And k2?"}, {"role": "assistant", "content": "blue owl"},
    ]
    assert to_messages(RECORD)[0] == {"role": "user", "content": "Look up the key.\n\nk3"}


def test_prompt_masked_answer_and_eos_learned(tok):
    example, length = encode_record(RECORD, tok, max_length=128, label_key="meta.task_type")
    prompt = tok.apply_chat_template(to_messages(RECORD)[:-1], tokenize=False, add_generation_prompt=True)
    n_prompt = len(tok(prompt, add_special_tokens=False)["input_ids"])
    answer = tok("red fox", add_special_tokens=False)["input_ids"]
    assert example.labels[:n_prompt] == [IGNORE] * n_prompt  # exactly the prompt positions are masked
    assert example.labels[n_prompt:] == [*answer, tok.eos_token_id]  # the answer, then EOS, all learned
    assert example.input_ids[n_prompt:] == example.labels[n_prompt:]
    assert example.prompt_ids == example.input_ids[:n_prompt]
    assert tok.decode(example.input_ids) == prompt + "red fox<|end|>"
    assert (example.reference, example.label, length, example.truncated) == ("red fox", "common", len(example.input_ids), False)


def test_history_answers_learned_unless_masked(tok):
    full, _ = encode_record(HISTORY, tok, max_length=256)
    last_only, _ = encode_record(HISTORY, tok, max_length=256, mask_history=True)
    learned = tok.decode([t for t in full.labels if t != IGNORE])
    assert learned == "gold cat<|end|>blue owl<|end|>"
    assert tok.decode([t for t in last_only.labels if t != IGNORE]) == "blue owl<|end|>"
    assert full.input_ids == last_only.input_ids
    assert tok.decode(full.prompt_ids).endswith("<|user|>\nAnd k2?\n<|assistant|>\n")
    assert tok.decode(full.prompt_ids).startswith("<|system|>\nBe brief.\n<|user|>\nLook up k1.\n")


def test_fallback_template_when_tokenizer_has_none():
    tok = build_tokenizer(["Look up the key k3 red fox ### Instruction Response"], vocab_size=300, chat_template=False)
    example, _ = encode_record(HISTORY, tok, max_length=256)
    text = tok.decode(example.input_ids)
    assert text == ("Be brief.\n\n### Instruction:\nLook up k1.\n\n### Response:\ngold cat<|end|>\n\n"
                    "### Instruction:\nAnd k2?\n\n### Response:\nblue owl<|end|>")
    forced, _ = encode_record(RECORD, tok, max_length=256, template="fallback")
    assert tok.decode([t for t in forced.labels if t != IGNORE]) == "red fox<|end|>"


def test_truncation_counted_and_prompt_only_records_dropped(tok):
    long = {**RECORD, "output": "red fox " * 40}
    examples, stats = encode_records([RECORD, long], tok, max_length=40)
    assert (stats.records, stats.truncated, stats.dropped, len(examples)) == (2, 1, 0, 2)
    assert len(examples[1].input_ids) == 40 and stats.longest > 40
    assert stats.warnings(40) == [f"1 of 2 records are longer than --max-length 40 tokens (longest {stats.longest}) "
                                  "and lose the end of their answer"]
    examples, stats = encode_records([{**RECORD, "input": "k3 " * 40}], tok, max_length=20)
    assert (examples, stats.dropped) == ([], 1)
    assert "prompt alone fills --max-length 20" in stats.warnings(20)[0]


def test_broken_chat_template_is_a_config_error(tiny_model):
    tok = load_tokenizer(tiny_model)
    tok.chat_template = "{{ raise_exception('no system role') }}"
    with pytest.raises(ConfigError, match="chat template failed: no system role; try --template fallback"):
        encode_record(RECORD, tok, max_length=64)


def test_load_records_reports_path_and_line(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text('{"instruction": "a", "output": "b"}\n{"instruction": "c", "output": " "}\n', encoding="utf-8")
    with pytest.raises(InputError) as err:
        load_records([str(path)])
    assert str(err.value) == f"{path}:2: output is missing or empty; run `datacraft validate` or `datacraft clean` first"


def test_split_and_labels():
    records = [{"instruction": str(i), "output": "x"} for i in range(20)]
    train, val = split_records(records, 0.1, seed=1)
    assert len(val) == 2 and len(train) == 18
    assert sorted(r["instruction"] for r in train + val) == sorted(r["instruction"] for r in records)
    assert split_records(records, 0.1, seed=1) == (train, val)
    assert label_of({"meta": {"a": {"b": 3}}}, "meta.a.b") == "3" and label_of({"meta": {}}, "meta.x") is None


def test_malformed_history_is_an_input_error(tmp_path):
    path = tmp_path / "h.jsonl"
    path.write_text('{"instruction": "a", "output": "b", "history": [["only one"]]}\n', encoding="utf-8")
    with pytest.raises(InputError, match=r"h.jsonl:1: history must be a list of \[question, answer\] string pairs$"):
        load_records([str(path)])
