"""The one runner: the same path errors in every command, balanced counts, nothing written on a refusal."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from datacraft.cli import cli
from datacraft.errors import ConfigError
from datacraft.runner import check_paths, run_stages
from datacraft.stages import filter_stage

RECORD = {"instruction": "Name a primary colour.", "input": "", "output": "Red."}
BOTH_STDOUT = "Error: output and --rejects both write to stdout (-); send one of them to a file\n"
IS_INPUT = "Error: {label} in.jsonl is also an input; write to a new file (inputs are never overwritten)\n"


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "in.jsonl").write_text(json.dumps(RECORD) + "\n", encoding="utf-8")
    return tmp_path


@pytest.mark.parametrize("command", ["clean", "dedupe", "augment", "ingest"])
def test_rejects_and_output_both_on_stdout_is_one_error_everywhere(workdir: Path, command: str) -> None:
    result = CliRunner().invoke(cli, [command, "in.jsonl", "-o", "-", "--rejects", "-"])
    assert (result.exit_code, result.stderr) == (2, BOTH_STDOUT)


@pytest.mark.parametrize("args, label", [
    (["clean", "in.jsonl", "-o", "in.jsonl"], "output"),
    (["dedupe", "in.jsonl", "-o", "in.jsonl"], "output"),
    (["augment", "in.jsonl", "-o", "in.jsonl"], "output"),
    (["ingest", "in.jsonl", "-o", "in.jsonl"], "output"),
    (["clean", "in.jsonl", "-o", "out.jsonl", "--rejects", "in.jsonl"], "--rejects"),
    (["dedupe", "in.jsonl", "-o", "out.jsonl", "--stats", "in.jsonl"], "--stats"),
    (["validate", "in.jsonl", "--report", "in.jsonl"], "--report"),
    (["stats", "in.jsonl", "--json", "in.jsonl"], "--json"),
])
def test_an_output_that_is_an_input_is_one_error_everywhere(workdir: Path, args: list[str], label: str) -> None:
    before = (workdir / "in.jsonl").read_bytes()
    result = CliRunner().invoke(cli, args)
    assert (result.exit_code, result.stderr) == (2, IS_INPUT.format(label=label))
    assert (workdir / "in.jsonl").read_bytes() == before
    assert sorted(p.name for p in workdir.iterdir()) == ["in.jsonl"]


def test_export_into_the_folder_that_holds_its_input_is_refused(workdir: Path) -> None:
    result = CliRunner().invoke(cli, ["export", "in.jsonl", "-o", "."])
    assert result.exit_code == 2
    assert result.stderr == "Error: --out-dir . holds the input in.jsonl; write to a new folder (inputs are never overwritten)\n"


def test_check_paths_names_the_clash() -> None:
    with pytest.raises(ConfigError, match=r"^--rejects \./a\.jsonl is the same file as the output; give it another name$"):
        check_paths(["in.jsonl"], {"output": "a.jsonl", "--rejects": "./a.jsonl"})
    with pytest.raises(ConfigError, match=r"^stdin \(-\) can be read only once$"):
        check_paths(["-", "-"], {"output": "out.jsonl"})
    check_paths(["in.jsonl"], {"output": "-", "--rejects": "rej.jsonl", "--stats": None})  # fine


def test_run_stages_balances_and_writes_output_rejects_and_stats(workdir: Path) -> None:
    (workdir / "in.jsonl").write_text("".join(json.dumps({**RECORD, "output": o}) + "\n" for o in ("a", "", "b"))
                                      + "{broken\n", encoding="utf-8")

    def build(ledger):
        return [filter_stage("nonempty", lambda r: (bool(r["output"]), "empty_output"), ledger)]

    result = run_stages(["in.jsonl"], "out.jsonl", build, rejects="rej.jsonl", stats="stats.json",
                        show_progress=False)
    assert (result["read"], result["kept"], result["rejected"]) == (4, 2, 2)
    assert result["reasons"] == {"read/invalid_json": 1, "nonempty/empty_output": 1}
    assert [json.loads(x)["id"] for x in (workdir / "out.jsonl").read_text().splitlines()] == ["in:1", "in:3"]
    assert len((workdir / "rej.jsonl").read_text().splitlines()) == 2
    assert json.loads((workdir / "stats.json").read_text())["kept"] == 2


def test_progress_goes_to_stderr_only(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run_stages(["in.jsonl"], "-", lambda ledger: [], show_progress=True)
    out, err = capsys.readouterr()
    assert [json.loads(line)["output"] for line in out.splitlines()] == ["Red."]
    assert " rec" in err  # the tqdm bar, with its records/s unit
