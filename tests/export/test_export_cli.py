import json
from pathlib import Path

from click.testing import CliRunner

from datacraft.cli import cli

FIXTURE = str(Path(__file__).parents[1] / "fixtures" / "export_records.jsonl")


def write_plain(path, n=20):
    path.write_text("".join(json.dumps({"instruction": f"Question number {i}?", "output": f"Answer {i}."}) + "\n"
                            for i in range(n)), encoding="utf-8")
    return str(path)


def test_export_cli_writes_files_and_prints_counts(tmp_path):
    source = write_plain(tmp_path / "in.jsonl")
    out = tmp_path / "out"
    result = CliRunner().invoke(cli, ["export", source, "--to", "sharegpt", "--out-dir", str(out),
                                      "--name", "demo", "--val-size", "0.25", "--seed", "3", "--no-group-duplicates"])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[0] == "exported 20 of 20 records as sharegpt: train 15, validation 5, rejected 0"
    assert "dataset_info.json: demo_train, demo_validation" in result.output
    assert sorted(p.name for p in out.iterdir()) == [
        "dataset_info.json", "demo_provenance.jsonl", "demo_rejects.jsonl", "demo_train.jsonl", "demo_validation.jsonl"]
    first = json.loads((out / "demo_train.jsonl").read_text().splitlines()[0])
    assert set(first) == {"conversations"}


def test_export_cli_reports_rejects_on_stderr(tmp_path):
    runner = CliRunner()
    result = runner.invoke(cli, ["export", FIXTURE, "--out-dir", str(tmp_path), "--val-size", "0",
                                 "--no-group-duplicates"])
    assert result.exit_code == 0, result.output
    assert "rejected      1  export/empty_field" in result.stdout
    assert "rejected      1  read/invalid_json" in result.stdout
    assert result.stderr == f"rejects: {tmp_path / 'datacraft_rejects.jsonl'}\n"


def test_export_cli_input_options(tmp_path):
    source = tmp_path / "qa.csv"
    source.write_text("question,answer\nWhat is 1+1?,2\nWhat is 2+2?,4\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["export", str(source), "--out-dir", str(tmp_path / "o"), "--val-size", "0",
                                      "--map", "instruction=question", "--map", "output=answer",
                                      "--no-group-duplicates"])
    assert result.exit_code == 0, result.output
    rows = [json.loads(x) for x in (tmp_path / "o" / "datacraft_train.jsonl").read_text().splitlines()]
    assert rows == [{"instruction": "What is 1+1?", "input": "", "output": "2"},
                    {"instruction": "What is 2+2?", "input": "", "output": "4"}]


def test_export_cli_missing_input(tmp_path):
    missing = tmp_path / "nope.jsonl"
    result = CliRunner().invoke(cli, ["export", str(missing), "--out-dir", str(tmp_path / "o")])
    assert result.exit_code == 2
    assert result.stderr == f"Error: {missing}: file not found\n"
    assert not (tmp_path / "o" / "dataset_info.json").exists()


def test_export_cli_bad_options(tmp_path):
    source = write_plain(tmp_path / "in.jsonl")
    runner = CliRunner()
    result = runner.invoke(cli, ["export", source, "--out-dir", str(tmp_path), "--val-size", "-0.5"])
    assert result.exit_code == 2
    assert result.stderr == "Error: --val-size must be >= 0, got -0.5\n"
    result = runner.invoke(cli, ["export", source, "--out-dir", str(tmp_path), "--to", "csv"])
    assert result.exit_code == 2 and "Invalid value for '--to'" in result.stderr
    result = runner.invoke(cli, ["export", source, "--out-dir", str(tmp_path), "--format", "sharegpt", "--to", "openai"])
    assert result.exit_code == 2
    assert result.stderr.splitlines()[-1] == ("Error: --to openai and --format sharegpt disagree: "
                                              "give the output layout once, with --to")


def test_export_format_is_the_input_format_and_the_old_layout_option_warns(tmp_path):
    source = write_plain(tmp_path / "in.jsonl")
    runner = CliRunner()
    new = runner.invoke(cli, ["export", source, "--out-dir", str(tmp_path / "new"), "--to", "sharegpt", "--format", "jsonl"])
    old = runner.invoke(cli, ["export", source, "--out-dir", str(tmp_path / "old"), "--format", "sharegpt"])
    assert new.exit_code == old.exit_code == 0
    assert "deprecated" not in new.stderr
    notes = [line for line in old.stderr.splitlines() if "deprecated" in line]
    assert notes == ["note: export --format sharegpt is deprecated: use --to sharegpt "
                     "(--format is the input format in every command)"]
    for name in ("datacraft_train.jsonl", "dataset_info.json"):
        assert (tmp_path / "new" / name).read_bytes() == (tmp_path / "old" / name).read_bytes()
    result = runner.invoke(cli, ["export", source])
    assert result.exit_code == 2 and "Missing option '--out-dir'" in result.stderr


def test_export_help_has_an_example():
    result = CliRunner().invoke(cli, ["export", "--help"])
    assert result.exit_code == 0 and "Example:" in result.output
