import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from datacraft.cli import cli
from datacraft.errors import ConfigError
from datacraft.pipeline import run_pipeline

ROOT = Path(__file__).resolve().parents[1]

RECORDS = [
    {"instruction": "解释什么是过拟合。", "input": "", "output": "模型在训练集上表现很好，但在新数据上表现差。"},
    {"instruction": "解释什么是过拟合。", "input": "", "output": "模型在训练集上表现很好，但在新数据上表现差。"},
    {"instruction": "Name a prime number above 10.", "input": "", "output": "Eleven is prime."},
    {"instruction": "Give a synonym of big.", "input": "", "output": ""},
    {"instruction": "Translate 'cat' into French.", "input": "", "output": "chat"},
    {"instruction": "What is the boiling point of water at sea level?", "input": "", "output": "100 °C."},
]

CONFIG = """
name: t
output_dir: out
inputs:
  - path: in.jsonl
stages:
  - clean
  - dedupe: {threshold: 0.8}
  - validate: {schema: alpaca}
  - export: {format: alpaca, val_size: 0.25, seed: 1}
"""


@pytest.fixture
def project(tmp_path):
    lines = [json.dumps(r, ensure_ascii=False) for r in RECORDS] + ["{not json"]
    (tmp_path / "in.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (tmp_path / "pipeline.yaml").write_text(CONFIG, encoding="utf-8")
    return tmp_path


def test_pipeline_runs_every_stage_and_balances(project):
    manifest = run_pipeline(str(project / "pipeline.yaml"))
    assert [s["stage"] for s in manifest["stages"]] == ["read", "clean", "dedupe", "validate", "export"]
    assert manifest["totals"] == {"read": 7, "kept": 4, "rejected": 3, "balanced": True}
    assert manifest["inputs"][0]["path"] == "in.jsonl" and len(manifest["inputs"][0]["sha256"]) == 64
    out = project / "out"
    reasons = {}
    for stage in manifest["stages"][:4]:
        rejects = out / stage["outputs"]["rejects"]["path"]
        for line in rejects.read_text(encoding="utf-8").splitlines():
            entry = json.loads(line)
            reasons[entry["reason"]] = entry["stage"]
    assert reasons == {"invalid_json": "read", "empty_field": "filter", "exact_duplicate": "exact_dedupe"}
    written = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert written["totals"] == manifest["totals"]
    assert "datacraft" in written["versions"]
    info = json.loads((out / "05_export" / "dataset_info.json").read_text(encoding="utf-8"))
    assert set(info) == {"t_train", "t_validation"}


def test_rerun_skips_unchanged_stages_and_redoes_changed_ones(project):
    config = str(project / "pipeline.yaml")
    run_pipeline(config)
    again = run_pipeline(config)
    assert all(s["skipped"] for s in again["stages"])
    assert again["totals"]["kept"] == 4
    # A changed input invalidates every stage; a changed stage setting only that stage and later ones.
    with open(project / "in.jsonl", "a", encoding="utf-8") as handle:
        handle.write(json.dumps({"instruction": "Say hello.", "output": "Hello!"}) + "\n")
    third = run_pipeline(config)
    assert not any(s["skipped"] for s in third["stages"])
    (project / "pipeline.yaml").write_text(CONFIG.replace("val_size: 0.25", "val_size: 0.5"), encoding="utf-8")
    fourth = run_pipeline(config)
    assert [s["skipped"] for s in fourth["stages"]] == [True, True, True, True, False]


def test_a_damaged_output_is_redone(project):
    config = str(project / "pipeline.yaml")
    first = run_pipeline(config)
    (project / "out" / first["stages"][2]["outputs"]["records"]["path"]).write_text("", encoding="utf-8")
    second = run_pipeline(config)
    # Only the damaged stage reruns: it rewrites the same records, so the later stages stay valid.
    assert [s["skipped"] for s in second["stages"]] == [True, True, False, True, True]
    assert second["totals"] == first["totals"]


@pytest.mark.parametrize(("text", "message"), [
    ("inputs: [{path: in.jsonl}]\nstages: [read]\nbogus: 1\n", "unknown key 'bogus'"),
    ("inputs: [{path: in.jsonl}]\nstages: [read, polish]\n", "stages[2]: unknown stage 'polish'"),
    ("inputs: [{path: missing.jsonl}]\nstages: [read]\n", "input missing.jsonl not found"),
    ("inputs: [{path: in.jsonl}]\nstages: [read, {clean: {filters: {min_lenght: 2}}}]\n", "unknown key 'filters.min_lenght'"),
    ("inputs: [{path: in.jsonl}\n", "invalid YAML"),
])
def test_bad_pipeline_files_are_clear_errors(project, text, message):
    (project / "bad.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=message.replace("[", r"\[").replace("]", r"\]")):
        run_pipeline(str(project / "bad.yaml"))


def test_cli_prints_what_was_removed_and_why(project):
    result = CliRunner().invoke(cli, ["run", str(project / "pipeline.yaml")])
    assert result.exit_code == 0, result.output
    assert "exact_dedupe/exact_duplicate" in result.output
    assert "read/invalid_json" in result.output
    assert result.output.splitlines()[-1].startswith("total: read 7, kept 4, rejected 3")
    missing = CliRunner().invoke(cli, ["run", str(project / "nope.yaml")])
    assert missing.exit_code == 2
    assert missing.output.strip().endswith("nope.yaml: pipeline file not found")


def test_bundled_demo_pipeline(tmp_path):
    """The example data shipped in data/ goes through the whole pipeline and balances."""
    shutil.copytree(ROOT / "data", tmp_path / "data")
    manifest = run_pipeline(str(tmp_path / "data" / "pipeline.yaml"))
    totals = manifest["totals"]
    assert totals["balanced"] and totals["read"] == 57
    reasons = {r for s in manifest["stages"] for r in (s.get("counts") or {}).get("reasons", {})}
    for expected in ("read/invalid_json", "filter/empty_field", "filter/refusal",
                     "exact_dedupe/exact_duplicate", "near_dedupe/near_duplicate"):
        assert expected in reasons


def test_a_pipeline_that_would_export_nothing_fails_and_registers_nothing(tmp_path):
    rows = [{"conversations": [{"from": "human", "value": "Hi"}, {"from": "function_call", "value": "{}"}]}] * 3
    (tmp_path / "in.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    (tmp_path / "p.yaml").write_text("name: t\noutput_dir: out\ninputs: [{path: in.jsonl}]\n"
                                     "stages: [validate, {export: {format: alpaca}}]\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["run", str(tmp_path / "p.yaml")])
    assert result.exit_code == 1
    assert result.stderr.splitlines()[-1] == ("Error: export: no record to export out of 3 read (export/unconvertible 3); "
                                              "nothing written, dataset_info.json unchanged")
    assert not (tmp_path / "out" / "03_export" / "dataset_info.json").exists()


def test_totals_count_what_export_rejects(tmp_path):
    rows = [{"instruction": "Hi", "output": "Hello there."},
            {"conversations": [{"from": "human", "value": "Weather?"}, {"from": "function_call", "value": "{}"},
                               {"from": "observation", "value": "{}"}, {"from": "gpt", "value": "Sunny."}]}]
    (tmp_path / "in.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    (tmp_path / "p.yaml").write_text("name: t\noutput_dir: out\ninputs: [{path: in.jsonl}]\n"
                                     "stages: [{export: {format: alpaca, val_size: 0}}]\n", encoding="utf-8")
    manifest = run_pipeline(str(tmp_path / "p.yaml"))
    assert manifest["totals"] == {"read": 2, "kept": 1, "rejected": 1, "balanced": True}


def test_an_output_dir_that_holds_an_input_is_refused(project):
    (project / "p.yaml").write_text(CONFIG.replace("output_dir: out", "output_dir: ."), encoding="utf-8")
    with pytest.raises(ConfigError, match=r"^output_dir .* holds the input .*in\.jsonl; write to a new folder"):
        run_pipeline(str(project / "p.yaml"))
