"""`datacraft augment` end to end: counts, determinism, originals, split safety and option errors."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from datacraft.augment import AugmentConfig, augment_file
from datacraft.cli import cli
from datacraft.export import export_dataset
from tests.augment.conftest import FIXTURES

ZH, EN = str(FIXTURES / "zh.jsonl"), str(FIXTURES / "en.jsonl")


def read(path) -> list[dict]:
    return [json.loads(line) for line in open(path, encoding="utf-8")]


def invoke(*args: str):
    return CliRunner().invoke(cli, ["augment", *args])


def test_synonym_and_mix_counts_add_up(tmp_path, wordnet_dir):
    out, rejects = tmp_path / "out.jsonl", tmp_path / "rej.jsonl"
    result = invoke(ZH, EN, "-o", str(out), "--rejects", str(rejects), "--method", "synonym", "--method", "mix",
                    "--mix-ratio", "0.2", "--wordnet-dir", str(wordnet_dir), "--seed", "5")
    assert result.exit_code == 0, result.output
    rows, bad = read(out), read(rejects)
    originals = [r for r in rows if "method" not in (r.get("meta") or {})]
    copies = [r for r in rows if (r.get("meta") or {}).get("method") == "synonym"]
    mixed = [r for r in rows if (r.get("meta") or {}).get("method") == "mix"]
    assert len(originals) == 22 and [r["id"] for r in originals] == [f"zh{i}" for i in range(1, 13)] + [f"en{i}" for i in range(1, 11)]
    assert len(copies) + len([b for b in bad if b["stage"] == "synonym"]) == 22  # one attempt per record
    assert len(mixed) + len([b for b in bad if b["stage"] == "mix"]) == 4  # round(0.2 * 22): one block
    assert f"read 22, wrote {len(rows)} (22 originals + {len(rows) - 22} augmented), rejected {len(bad)}" in result.output
    for record in copies:
        assert record["id"] == record["meta"]["augmented_from"] + "#syn1"
    for record in mixed:
        assert len(record["meta"]["augmented_from"]) == 2


def test_factual_and_code_answers_and_placeholders_are_kept(tmp_path):
    out = tmp_path / "out.jsonl"
    assert invoke(ZH, "-o", str(out), "--ratio", "0.5", "--source", "thesaurus").exit_code == 0
    rows = {r["id"]: r for r in read(out)}
    assert "zh3#syn1" not in rows and "zh4#syn1" not in rows  # only their answers had replaceable words
    assert rows["zh12#syn1"]["instruction"] != rows["zh12"]["instruction"]  # arithmetic: the question is reworded,
    assert rows["zh12#syn1"]["output"] == rows["zh12"]["output"]  # the answer is not
    for record in rows.values():
        if record["id"].startswith("zh7"):
            assert "{{name}}" in record["output"] and "{{author}}" in record["output"]
    assert rows["zh10#syn1"]["output"] != rows["zh10"]["output"]  # an open task's answer is rewritten


def test_same_seed_same_bytes_other_seed_other_output(tmp_path, wordnet_dir):
    outputs = []
    for name, seed in (("a", "1"), ("b", "1"), ("c", "2")):
        path = tmp_path / f"{name}.jsonl"
        assert invoke(ZH, EN, "-o", str(path), "--seed", seed, "--copies", "2", "--source", "thesaurus",
                      "--wordnet-dir", str(wordnet_dir)).exit_code == 0
        outputs.append(path.read_bytes())
    assert outputs[0] == outputs[1] and outputs[0] != outputs[2]


def test_block_size_and_replace(tmp_path):
    small = augment_file([ZH], str(tmp_path / "s.jsonl"), config=AugmentConfig(block_size=3, synonym={"languages": ["zh"]}))
    large = augment_file([ZH], str(tmp_path / "l.jsonl"), config=AugmentConfig(synonym={"languages": ["zh"]}))
    assert read(tmp_path / "s.jsonl") == read(tmp_path / "l.jsonl")
    for result in (small, large):
        for stage in result["stages"].values():
            stage.pop("seconds")
    assert small == large
    replaced = augment_file([ZH], str(tmp_path / "r.jsonl"), config=AugmentConfig(replace=True, synonym={"languages": ["zh"]}))
    rows = read(tmp_path / "r.jsonl")
    assert replaced["originals"] == 0 and all(r["meta"]["method"] == "synonym" for r in rows)
    assert len(rows) == large["methods"]["synonym"]["produced"]


def test_copies_stay_on_their_sources_side_of_the_split(tmp_path):
    out = tmp_path / "out.jsonl"
    augment_file([ZH], str(out), config=AugmentConfig(copies=2, synonym={"languages": ["zh"], "ratio": 0.3}))
    export_dataset([str(out)], str(tmp_path / "export"), val_size=0.3, seed=3)
    side = {}
    for split in ("train", "validation"):
        for row in read(tmp_path / "export" / f"datacraft_{split}.jsonl"):
            side[row["instruction"] + row["output"]] = split
    rows = {r["id"]: r for r in read(out)}
    sides = {r["id"]: side[r["instruction"] + r["output"]] for r in rows.values()}
    assert set(sides.values()) == {"train", "validation"}
    for record in rows.values():
        source = (record.get("meta") or {}).get("augmented_from")
        if source:
            assert sides[record["id"]] == sides[source]


@pytest.mark.parametrize(("args", "message"), [
    (["--method", "mix", "--ratio", "0.2"], "Error: --ratio is an option of --method synonym, which is not chosen\n"),
    (["--pivot", "en"], "Error: --pivot is an option of --method backtranslate, which is not chosen\n"),
    (["--method", "backtranslate", "--model-dir", "zh-en=/tmp"], "Error: --model-dir is for --translator marian\n"),
    (["--ratio", "0"], "Error: options: synonym.ratio: Input should be greater than 0 (got 0.0)\n"),
    (["--fields", "instruction,answer"], "Error: options: fields.1: Input should be 'instruction', 'input' or 'output' (got 'answer')\n"),
])
def test_conflicting_or_bad_options_fail_before_any_work(tmp_path, args, message):
    out = tmp_path / "out.jsonl"
    result = invoke(ZH, "-o", str(out), *args)
    assert result.exit_code == 2 and result.output == message
    assert not out.exists()


def test_paths_and_config_file_errors(tmp_path):
    assert invoke(ZH, "-o", ZH).output == f"Error: output {ZH} is also an input; write to a new file (inputs are never overwritten)\n"
    config = tmp_path / "augment.yaml"
    config.write_text("augment:\n  synonym:\n    ratoi: 0.2\n", encoding="utf-8")
    result = invoke(ZH, "-o", str(tmp_path / "o.jsonl"), "--config", str(config))
    assert result.exit_code == 2 and result.output == f"Error: {config}: augment: unknown key 'synonym.ratoi'\n"
    config.write_text("augment:\n  synonym:\n    ratio: 0.3\n  guard:\n    max_similarity: null\nclean:\n  filters:\n    refusal: false\n")
    assert invoke(ZH, "-o", str(tmp_path / "o.jsonl"), "--config", str(config)).exit_code == 0


def test_missing_wordnet_is_a_clear_error_naming_the_install(tmp_path, monkeypatch):
    import nltk

    monkeypatch.setattr(nltk.data, "path", [str(tmp_path)])
    monkeypatch.delenv("NLTK_DATA", raising=False)
    result = invoke(EN, "-o", str(tmp_path / "o.jsonl"), "--source", "thesaurus")
    assert result.exit_code == 2
    assert result.output.startswith("Error: English synonym replacement needs WordNet data, which is not installed: "
                                    "python -m nltk.downloader wordnet omw-1.4 averaged_perceptron_tagger_eng")
    assert not (tmp_path / "o.jsonl").exists()
    assert invoke(EN, ZH, "-o", str(tmp_path / "zh.jsonl"), "--lang", "zh", "--source", "thesaurus").exit_code == 0
    assert invoke(EN, "-o", str(tmp_path / "en.jsonl")).exit_code == 0  # the default (curated pairs) needs no WordNet


def test_dry_run_shows_marked_pairs_and_writes_nothing(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = invoke(ZH, EN, "--dry-run", "3")
    assert result.exit_code == 0, result.output
    assert result.output.count("── ") == 3 and "── 1/3  zh5 -> zh5#syn1  (synonym)" in result.output
    assert "    before: [-给出-]三个提[-高-]学习效率的建议。\n    after:  {+提供+}三个提{+升+}学习效率的建议。\n" in result.output
    assert result.output.rstrip().endswith("nothing written")
    assert list(tmp_path.iterdir()) == []
    few = invoke(ZH, "--dry-run", "50", "--method", "swap")
    assert few.exit_code == 0 and "(of 50 asked: the input ran out)" in few.output


@pytest.mark.parametrize(("args", "message"), [
    ([], "Missing option '-o' / '--output' (or pass --dry-run N to only look)."),
    (["--dry-run", "2", "-o", "x.jsonl"], "Error: --dry-run writes nothing: leave out -o and --rejects\n"),
    (["-o", "x.jsonl", "--eda-ratio", "0.2"], "Error: --eda-ratio is an option of --method swap, delete, insert or noise, none of which is chosen\n"),
    (["-o", "x.jsonl", "--method", "mix", "--terms", "t.txt"], "Error: --terms is an option of --method synonym, which is not chosen\n"),
])
def test_dry_run_and_new_option_errors(tmp_path, monkeypatch, args, message):
    monkeypatch.chdir(tmp_path)
    result = invoke(ZH, *args)
    assert result.exit_code == 2 and message in result.output
    assert list(tmp_path.iterdir()) == []


def test_a_missing_term_file_is_an_error_naming_it(tmp_path):
    result = invoke(ZH, "-o", str(tmp_path / "o.jsonl"), "--terms", str(tmp_path / "none.txt"))
    assert result.exit_code == 2
    assert result.output == f"Error: {tmp_path / 'none.txt'}: cannot read (FileNotFoundError); give a UTF-8 text file\n"
