import base64
import json
import re
import warnings
from pathlib import Path

from click.testing import CliRunner

from datacraft.cli import cli
from datacraft.stats import compute_stats, write_html_report

FIXTURE = str(Path(__file__).parents[1] / "fixtures" / "stats_records.jsonl")


def test_html_report_is_self_contained_with_plots(tmp_path):
    stats = compute_stats([FIXTURE], near_duplicates=False)
    path = tmp_path / "report.html"
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no missing-glyph or backend warnings
        write_html_report(stats, str(path))
    page = path.read_text(encoding="utf-8")
    images = re.findall(r'<img src="data:image/png;base64,([A-Za-z0-9+/=]+)"', page)
    assert len(images) == 3  # length histograms, languages, openings
    assert all(base64.b64decode(data).startswith(b"\x89PNG") for data in images)
    assert "<td>请解释</td>" in page  # CJK text lives in the tables
    assert not re.search(r'(src|href)="(?!data:)', page) and "<script" not in page


def test_stats_cli_prints_summary_and_writes_files(tmp_path):
    html, out = tmp_path / "r.html", tmp_path / "s.json"
    result = CliRunner().invoke(cli, ["stats", FIXTURE, "--html", str(html), "--json", str(out), "--no-near"])
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[0] == "records 8  (unreadable rows 1)"
    assert result.stdout.splitlines()[-1] == f"report: {html}"
    assert json.loads(out.read_text(encoding="utf-8"))["languages"] == {"en": 5, "zh": 3}
    assert html.read_text(encoding="utf-8").startswith("<!doctype html>")


def test_stats_cli_json_to_stdout(tmp_path):
    result = CliRunner().invoke(cli, ["stats", FIXTURE, "--json", "-", "--no-near"])
    assert result.exit_code == 0
    assert json.loads(result.stdout)["records"] == 8


def test_stats_cli_errors(tmp_path):
    runner = CliRunner()
    missing = tmp_path / "missing.jsonl"
    result = runner.invoke(cli, ["stats", str(missing)])
    assert result.exit_code == 2 and result.stderr == f"Error: {missing}: file not found\n"
    result = runner.invoke(cli, ["stats", FIXTURE, "--html", FIXTURE])
    assert result.exit_code == 2
    assert result.stderr == f"Error: --html {FIXTURE} is also an input; write to a new file (inputs are never overwritten)\n"
    bad = tmp_path / "bad.json"
    bad.write_text("not json at all", encoding="utf-8")
    result = runner.invoke(cli, ["stats", str(bad)])
    assert result.exit_code == 2
    assert result.stderr == f"Error: {bad}:1: not JSON: expected an array of records or JSON Lines\n"
