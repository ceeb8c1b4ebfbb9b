"""`datacraft mix`: exact record share, token share within 1%, stratified by source, deduplicated, reproducible."""

from __future__ import annotations

import json
import random
import re
from collections import Counter
from pathlib import Path

import pytest
from click.testing import CliRunner

from datacraft.cli import cli
from datacraft.decontam.text import all_text
from datacraft.dedupe import DedupeConfig
from datacraft.mix import allocate, general_count, mix_file, pick_tokens, record_tokens

WORDS = "alpha beta gamma delta epsilon zeta theta iota kappa lambda sigma omega".split()


def _records(prefix: str, count: int, seed: int, zh: bool = False) -> list[dict]:
    rng = random.Random(seed)
    out = []
    for i in range(count):
        if zh:
            body = "".join(rng.choice("天地人和山水日月风云花草") for _ in range(rng.randint(10, 60)))
            out.append({"instruction": f"{prefix}{i}号问题：{body}", "input": "", "output": body[::-1]})
        else:
            words = " ".join(rng.choice(WORDS) + str(rng.randint(0, 999)) for _ in range(rng.randint(5, 40)))
            out.append({"instruction": f"{prefix} question {i}: {words}", "input": "", "output": words.upper()})
    return out


def _write(path: Path, rows: list[dict]) -> str:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return str(path)


@pytest.fixture
def files(tmp_path: Path) -> dict[str, str]:
    domain = _records("domain", 300, 1)
    general_a = _records("general-a", 400, 2) + domain[:20]  # 20 copies of domain records must never be sampled
    general_b = _records("general-b", 200, 3, zh=True)
    return {"domain": _write(tmp_path / "domain.jsonl", domain), "a": _write(tmp_path / "gen_a.jsonl", general_a),
            "b": _write(tmp_path / "gen_b.jsonl", general_b)}


def _read(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


@pytest.mark.parametrize("ratio", [0.1, 0.2, 0.5])
def test_record_share_is_exact_and_stratified(files: dict[str, str], tmp_path: Path, ratio: float) -> None:
    out = tmp_path / "mixed.jsonl"
    result = mix_file([files["domain"]], [files["a"], files["b"]], str(out), ratio=ratio, seed=5,
                      rejects=str(tmp_path / "rejects.jsonl"))
    rows = _read(out)
    roles = Counter(r["meta"]["mix_role"] for r in rows)
    assert roles["domain"] == 300
    assert roles["general"] == general_count(300, ratio)
    assert abs(roles["general"] / len(rows) - ratio) <= 1 / len(rows)
    sources = Counter(r["meta"]["mix_source"] for r in rows if r["meta"]["mix_role"] == "general")
    available = {name: s["available"] for name, s in result["general"].items()}
    assert dict(sources) == {k: v for k, v in allocate(roles["general"], available).items() if v}
    assert available == {"gen_a": 400, "gen_b": 200}  # the 20 domain copies were dropped before sampling
    copies = [json.loads(line) for line in (tmp_path / "rejects.jsonl").read_text().splitlines()]
    assert len(copies) == 20 and {c["reason"] for c in copies} == {"copies_reference"}
    general_texts = {r["instruction"] for r in rows if r["meta"]["mix_role"] == "general"}
    assert not general_texts & {r["instruction"] for r in _read(Path(files["domain"]))}


@pytest.mark.parametrize("ratio", [0.05, 0.2, 0.4])
def test_token_share_within_one_percent(files: dict[str, str], tmp_path: Path, ratio: float) -> None:
    out = tmp_path / "mixed.jsonl"
    result = mix_file([files["domain"]], [files["a"], files["b"]], str(out), ratio=ratio, by="tokens", seed=9)
    rows = _read(out)
    general = sum(record_tokens(r) for r in rows if r["meta"]["mix_role"] == "general")
    total = sum(record_tokens(r) for r in rows)
    assert abs(general / total - ratio) <= 0.01 * ratio
    assert result["within_tolerance"] is True


def test_same_seed_same_file_other_seed_other_sample(files: dict[str, str], tmp_path: Path) -> None:
    outs = []
    for name, seed in (("one", 3), ("two", 3), ("three", 4)):
        out = tmp_path / f"{name}.jsonl"
        mix_file([files["domain"]], [files["a"], files["b"]], str(out), ratio=0.2, seed=seed)
        outs.append(out.read_bytes())
    assert outs[0] == outs[1]
    assert outs[0] != outs[2]


def test_not_enough_general_data_is_an_error(files: dict[str, str], tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["mix", files["domain"], "--general", files["b"], "--ratio", "0.9",
                                      "-o", str(tmp_path / "o.jsonl")])
    assert result.exit_code == 2
    assert ("Error: --ratio 0.9 needs 2700 general records but only 200 are left after dedupe; "
            "add --general data or lower --ratio") in result.output
    assert not (tmp_path / "o.jsonl").exists()


def test_cli_summary_and_bad_ratio(files: dict[str, str], tmp_path: Path) -> None:
    out = tmp_path / "o.jsonl"
    result = CliRunner().invoke(cli, ["mix", files["domain"], "--general", files["a"], "--general", files["b"],
                                      "--ratio", "0.25", "-o", str(out), "--seed", "1"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("domain 300 records, general 100 records: general share 25.00% of records")
    assert "near_dedupe   dropped      20  (copies_reference 20)" in result.output
    assert f"wrote 400 records to {out}" in result.output
    bad = CliRunner().invoke(cli, ["mix", files["domain"], "--general", files["a"], "--ratio", "1", "-o", str(out)])
    assert bad.exit_code == 2 and "must be at least 0 and below 1" in bad.output


def test_pick_tokens_and_allocate_properties() -> None:
    rng = random.Random(0)
    lengths = [rng.randint(5, 200) for _ in range(500)]
    for budget in (1000, 5000, 20000):
        chosen = pick_tokens(lengths, budget, random.Random(1))
        assert len(set(chosen)) == len(chosen)
        assert abs(sum(lengths[i] for i in chosen) - budget) <= 0.01 * budget
    assert sum(allocate(37, {"a": 5, "b": 7, "c": 11}).values()) == 37


def test_source_key_strata_and_no_dedupe(tmp_path: Path) -> None:
    domain = _records("domain", 100, 11)
    general = [{**r, "meta": {"source": "web" if i % 4 else "books"}} for i, r in enumerate(_records("g", 400, 12))]
    general += [dict(r) for r in domain[:10]]  # copies of domain records, without meta.source
    d, g = _write(tmp_path / "d.jsonl", domain), _write(tmp_path / "g.jsonl", general)
    out = tmp_path / "o.jsonl"
    result = mix_file([d], [g], str(out), ratio=0.5, seed=2, source_key="source")
    assert {n: s["available"] for n, s in result["general"].items()} == {"books": 100, "web": 300}
    sampled = Counter(r["meta"]["mix_source"] for r in _read(out) if r["meta"]["mix_role"] == "general")
    assert sampled == {"web": 75, "books": 25}
    raw = mix_file([d], [g], str(out), ratio=0.5, seed=2, source_key="source",
                   dedupe=DedupeConfig(enabled=False))
    assert raw["general"]["g"]["available"] == 10  # the copies fall back to their file as source


def test_domain_from_stdin_and_output_to_stdout(files: dict[str, str]) -> None:
    stdin = Path(files["domain"]).read_text(encoding="utf-8")
    result = CliRunner().invoke(cli, ["mix", "-", "--general", files["b"], "--ratio", "0.1", "-o", "-", "--seed", "1"],
                                input=stdin)
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    assert len(rows) == 333 and sum(r["meta"]["mix_role"] == "general" for r in rows) == 33
    assert {r["meta"]["mix_source"] for r in rows if r["meta"]["mix_role"] == "domain"} == {"stdin"}


def test_token_share_with_a_given_tokenizer(files: dict[str, str], tmp_path: Path) -> None:
    out = tmp_path / "mixed.jsonl"
    result = mix_file([files["domain"]], [files["a"], files["b"]], str(out), ratio=0.2, by="tokens", seed=3,
                      tokenizer=list)  # one token per character
    rows = _read(out)
    general = sum(len(all_text(r)) for r in rows if r["meta"]["mix_role"] == "general")
    total = sum(len(all_text(r)) for r in rows)
    assert abs(general / total - 0.2) <= 0.002 and result["within_tolerance"]


def test_tokenizer_folder_and_unloadable_name(files: dict[str, str], tmp_path: Path) -> None:
    transformers = pytest.importorskip("transformers")
    from tokenizers import Tokenizer, models, pre_tokenizers

    vocab = {"[UNK]": 0, **{w: i + 1 for i, w in enumerate(WORDS)}}
    core = Tokenizer(models.WordLevel(vocab, unk_token="[UNK]"))
    core.pre_tokenizer = pre_tokenizers.Whitespace()
    transformers.PreTrainedTokenizerFast(tokenizer_object=core, unk_token="[UNK]").save_pretrained(tmp_path / "tok")
    out = tmp_path / "o.jsonl"
    ok = CliRunner().invoke(cli, ["mix", files["domain"], "--general", files["a"], "--ratio", "0.3", "--by", "tokens",
                                  "--tokenizer", str(tmp_path / "tok"), "-o", str(out)])
    assert ok.exit_code == 0, ok.output
    share = float(re.search(r"([0-9.]+)% of tokens", ok.output).group(1)) / 100
    assert abs(share - 0.3) <= 0.003
    bad = CliRunner().invoke(cli, ["mix", files["domain"], "--general", files["a"], "--by", "tokens",
                                   "--tokenizer", "no/such-tokenizer", "-o", str(tmp_path / "x.jsonl")])
    assert bad.exit_code == 2 and "Error: --tokenizer: cannot load tokenizer 'no/such-tokenizer' offline" in bad.output
    assert not (tmp_path / "x.jsonl").exists()


def test_allocation_and_count_properties() -> None:
    from hypothesis import given
    from hypothesis import strategies as st

    @given(st.integers(0, 500), st.dictionaries(st.text("abc", min_size=1, max_size=3), st.integers(1, 1000),
                                                 min_size=1, max_size=6))
    def split_is_exact(total: int, sizes: dict[str, int]) -> None:
        parts = allocate(total, sizes)
        assert sum(parts.values()) == total and set(parts) == set(sizes)
        mass = sum(sizes.values())
        assert all(abs(parts[n] - total * sizes[n] / mass) < 1 for n in sizes)

    @given(st.integers(1, 100000), st.floats(0.01, 0.95))
    def share_is_nearest(domain: int, ratio: float) -> None:
        g = general_count(domain, ratio)
        error = abs(g / (domain + g) - ratio)
        assert all(error <= abs(k / (domain + k) - ratio) + 1e-12 for k in range(max(0, g - 3), g + 4))

    split_is_exact()
    share_is_nearest()
