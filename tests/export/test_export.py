import json
import os
import re
import shutil
from pathlib import Path

import pytest
from jsonl_io import read_jsonl as lines

from datacraft.errors import ConfigError
from datacraft.export import export_dataset

FIXTURE = str(Path(__file__).parents[1] / "fixtures" / "export_records.jsonl")
SHAREGPT_TAGS = {"role_tag": "from", "content_tag": "value", "user_tag": "human", "assistant_tag": "gpt",
                 "observation_tag": "observation", "function_tag": "function_call", "system_tag": "system"}
OPENAI_TAGS = {"role_tag": "role", "content_tag": "content", "user_tag": "user", "assistant_tag": "assistant",
               "system_tag": "system"}
# Related in the fixture: same document, augmented copy, near-duplicates, same document via other keys.
RELATED = [("r3", "r4"), ("r5", "r6"), ("r8", "r9"), ("r14", "r15")]


def punctuation_blind(texts):
    """Test clusterer: texts equal but for punctuation are near-duplicates."""
    keys = [re.sub(r"[\W_]+", "", t.casefold()) for t in texts]
    return [keys.index(k) for k in keys]


def export(out, **kwargs):
    kwargs.setdefault("cluster", punctuation_blind)
    return export_dataset([FIXTURE], str(out), **kwargs)




def test_counts_rejects_and_groups(tmp_path):
    result = export(tmp_path, val_size=0.2)
    assert (result["read"], result["kept"], result["rejected"]) == (16, 14, 2)
    assert (result["train"], result["validation"]) == (11, 3)
    assert (result["groups"], result["grouped_records"], result["largest_group"]) == (10, 8, 2)
    assert result["reasons"] == {"read/invalid_json": 1, "export/empty_field": 1}
    rejects = lines(tmp_path / "datacraft_rejects.jsonl")
    assert [(r["stage"], r["reason"]) for r in rejects] == [("export", "empty_field"), ("read", "invalid_json")]
    assert rejects[0]["record"]["id"] == "r11" and rejects[0]["detail"] == "instruction: is only whitespace"
    assert rejects[1]["raw"] == "this line is not JSON" and rejects[1]["source"].endswith("export_records.jsonl:16")


def test_alpaca_files_hold_only_training_fields_with_uniform_columns(tmp_path):
    export(tmp_path, val_size=0)
    rows = lines(tmp_path / "datacraft_train.jsonl")
    assert len(rows) == 14
    assert all(list(row) == ["instruction", "input", "output", "system", "history"] for row in rows)
    assert rows[0] == {"instruction": "Translate to English", "input": "你好", "output": "Hello",
                       "system": "You are a translator.", "history": []}
    assert rows[1]["history"] == [["Hi", "Hello! How can I help?"]] and rows[1]["system"] == ""
    # ShareGPT and OpenAI inputs were converted to Alpaca too.
    assert rows[10] == {"instruction": "Tell me a joke.", "input": "", "output": "Why did the chicken cross the road?",
                       "system": "Be funny.", "history": []}


def test_provenance_sidecar_points_at_each_written_row(tmp_path):
    export(tmp_path, val_size=0.2, seed=1)
    files = {s: lines(tmp_path / f"datacraft_{s}.jsonl") for s in ("train", "validation")}
    sidecar = lines(tmp_path / "datacraft_provenance.jsonl")
    assert len(sidecar) == 14 and set(sidecar[0]) == {"id", "split", "index", "meta"}
    source = {r["id"]: r for r in map(json.loads, Path(FIXTURE).read_text().splitlines()[:15])}
    for entry in sidecar:
        row = files[entry["split"]][entry["index"]]
        original = source[entry["id"]]
        assert entry["meta"] == original.get("meta")
        if "instruction" in original:
            assert row["instruction"] == original["instruction"]


@pytest.mark.parametrize("seed", range(6))
def test_related_records_never_straddle_the_split(tmp_path, seed):
    export(tmp_path, val_size=0.3, seed=seed)
    side = {e["id"]: e["split"] for e in lines(tmp_path / "datacraft_provenance.jsonl")}
    for a, b in RELATED:
        assert side[a] == side[b], (a, b, seed)


def test_same_seed_same_files_other_seed_other_split(tmp_path):
    export(tmp_path / "a", seed=5, val_size=0.3)
    export(tmp_path / "b", seed=5, val_size=0.3)
    for name in ("datacraft_train.jsonl", "datacraft_validation.jsonl", "datacraft_provenance.jsonl"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    splits = set()
    for seed in range(5):
        export(tmp_path / "c", seed=seed, val_size=0.3)
        splits.add((tmp_path / "c" / "datacraft_validation.jsonl").read_bytes())
    assert len(splits) > 1


def test_dataset_info_entries_per_format(tmp_path):
    export(tmp_path, fmt="alpaca", name="a")
    export(tmp_path, fmt="sharegpt", name="s")
    export(tmp_path, fmt="openai", name="o", file_format="json")
    info = json.loads((tmp_path / "dataset_info.json").read_text())
    alpaca_columns = {"prompt": "instruction", "query": "input", "response": "output", "system": "system",
                      "history": "history"}
    assert info["a_train"] == {"file_name": "a_train.jsonl", "columns": alpaca_columns}
    assert info["a_validation"] == {"file_name": "a_validation.jsonl", "columns": alpaca_columns}
    assert info["s_train"] == {"file_name": "s_train.jsonl", "formatting": "sharegpt",
                               "columns": {"messages": "conversations", "system": "system"}, "tags": SHAREGPT_TAGS}
    assert info["o_validation"] == {"file_name": "o_validation.json", "formatting": "sharegpt",
                                    "columns": {"messages": "messages"}, "tags": OPENAI_TAGS}
    assert list(info) == ["a_train", "a_validation", "s_train", "s_validation", "o_train", "o_validation"]


def test_optional_columns_are_mapped_only_when_present(tmp_path):
    data = tmp_path / "plain.jsonl"
    data.write_text("".join(json.dumps({"instruction": f"q{i}", "output": f"a{i}"}) + "\n" for i in range(5)))
    export_dataset([str(data)], str(tmp_path / "out"), val_size=0, group_near_duplicates=False)
    info = json.loads((tmp_path / "out" / "dataset_info.json").read_text())
    assert info == {"datacraft_train": {"file_name": "datacraft_train.jsonl", "columns": {
        "prompt": "instruction", "query": "input", "response": "output"}}}
    assert lines(tmp_path / "out" / "datacraft_train.jsonl")[0] == {"instruction": "q0", "input": "", "output": "a0"}


def test_merges_into_an_existing_dataset_info(tmp_path):
    existing = {"identity": {"file_name": "identity.json"},
                "datacraft_train": {"file_name": "old.json"},
                "datacraft_validation": {"file_name": "old_val.json"}}
    (tmp_path / "dataset_info.json").write_text(json.dumps(existing))
    export(tmp_path, val_size=0)
    info = json.loads((tmp_path / "dataset_info.json").read_text())
    assert list(info) == ["identity", "datacraft_train"]  # stale validation entry dropped with val_size 0
    assert info["identity"] == {"file_name": "identity.json"}
    assert info["datacraft_train"]["file_name"] == "datacraft_train.jsonl"
    assert not (tmp_path / "datacraft_validation.jsonl").exists()


def test_val_size_zero_removes_a_stale_validation_file(tmp_path):
    export(tmp_path, val_size=0.2)
    assert (tmp_path / "datacraft_validation.jsonl").exists()
    result = export(tmp_path, val_size=0)
    assert result["validation"] == 0 and "validation" not in result["files"]
    assert not (tmp_path / "datacraft_validation.jsonl").exists()
    assert {e["split"] for e in lines(tmp_path / "datacraft_provenance.jsonl")} == {"train"}


def test_absolute_validation_count(tmp_path):
    assert export(tmp_path, val_size=5)["validation"] == 5


@pytest.mark.parametrize("fmt", ["alpaca", "sharegpt", "openai"])
def test_llamafactory_style_loading(tmp_path, fmt):
    """Load every file the registry names the way LLaMA-Factory does, and read each mapped column."""
    datasets = pytest.importorskip("datasets")
    export(tmp_path, fmt=fmt, val_size=0.2, file_format="json" if fmt == "openai" else "jsonl")
    info = json.loads((tmp_path / "dataset_info.json").read_text())
    for entry in info.values():
        ds = datasets.load_dataset("json", data_files=str(tmp_path / entry["file_name"]), split="train",
                                   cache_dir=str(tmp_path / "hf-cache"))
        columns = entry.get("columns", {})
        assert set(columns.values()) <= set(ds.column_names)
        tags = {**SHAREGPT_TAGS, **entry.get("tags", {})}
        for example in ds:
            if entry.get("formatting", "alpaca") == "alpaca":
                prompt = "\n".join(x for x in (example[columns["prompt"]], example[columns["query"]]) if x)
                assert prompt and example[columns["response"]]
                assert isinstance(example[columns["history"]], list)
                continue
            messages = example[columns["messages"]]
            if messages[0][tags["role_tag"]] == tags["system_tag"]:
                messages = messages[1:]
            roles = [m[tags["role_tag"]] for m in messages]
            assert roles == [tags["user_tag"], tags["assistant_tag"]] * (len(roles) // 2) and roles


def test_refuses_to_overwrite_an_input(tmp_path):
    source = tmp_path / "datacraft_train.jsonl"
    shutil.copy(FIXTURE, source)
    with pytest.raises(ConfigError, match="is also an input"):
        export_dataset([str(source)], str(tmp_path))


@pytest.mark.parametrize("kwargs, message", [
    ({"fmt": "csv"}, "unknown export format"),
    ({"file_format": "parquet"}, "unknown file format"),
    ({"name": "../x"}, "bad --name"),
    ({"val_size": -1}, "--val-size must be >= 0"),
    ({"val_size": 1.5}, "whole number"),
])
def test_bad_options(tmp_path, kwargs, message):
    with pytest.raises(ConfigError, match=re.escape(message)):
        export(tmp_path, **kwargs)


def test_unreadable_existing_dataset_info(tmp_path):
    (tmp_path / "dataset_info.json").write_text("{not json")
    with pytest.raises(ConfigError, match="dataset_info.json: cannot read the existing dataset registry"):
        export(tmp_path)


LONG = ("Explain how low-rank adaptation reduces the number of trainable parameters when fine-tuning a large "
        "language model on a small dataset.")
ANSWER = "It freezes the base weights and learns two small matrices whose product is added to each projection."
ZH = "请解释低秩适配如何在小数据集上微调大语言模型时减少可训练参数的数量。"
ZH_ANSWER = "它冻结基础权重，并学习两个小矩阵，其乘积加到每个注意力投影上。"


@pytest.mark.parametrize("seed", range(5))
def test_real_near_duplicate_clustering_keeps_paraphrases_together(tmp_path, seed):
    records = [{"id": "en1", "instruction": LONG, "output": ANSWER},
               {"id": "en2", "instruction": LONG.replace("small dataset", "modest dataset"), "output": ANSWER},
               {"id": "zh1", "instruction": ZH, "output": ZH_ANSWER},
               {"id": "zh2", "instruction": ZH.replace("小数据集", "少量数据"), "output": ZH_ANSWER}]
    records += [{"id": f"q{i}", "instruction": f"Question {i}: name a prime number above {i * 37}.",
                 "output": f"{[101, 103, 107, 109, 113, 127, 131, 137, 139, 149, 151, 157][i]} is one."}
                for i in range(12)]
    source = tmp_path / "in.jsonl"
    source.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    result = export_dataset([str(source)], str(tmp_path / "out"), val_size=0.4, seed=seed)
    assert result["grouped_records"] == 4 and result["groups"] == 14
    side = {e["id"]: e["split"] for e in lines(tmp_path / "out" / "datacraft_provenance.jsonl")}
    assert side["en1"] == side["en2"] and side["zh1"] == side["zh2"]


def test_written_files_get_the_usual_permissions(tmp_path):
    old = os.umask(0o022)
    try:
        export(tmp_path)
    finally:
        os.umask(old)
    modes = {p.name: p.stat().st_mode & 0o777 for p in tmp_path.iterdir()}
    assert set(modes.values()) == {0o644}, modes  # a trainer running as another user can read them
