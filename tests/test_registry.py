"""The stage registry: every stage's settings are checked before the first stage runs."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from datacraft.cli import cli
from datacraft.errors import ConfigError
from datacraft.registry import REGISTRY, check_stage

TYPOS = {
    "read": "{read: {format: jsonl}}",
    "clean": "{clean: {filters: {min_lenght: 2}}}",
    "dedupe": "{dedupe: {treshold: 0.8}}",
    "validate": "{validate: {shema: alpaca}}",
    "export": "{export: {val_sise: 0.2}}",
    "stats": "{stats: {htm: r.html}}",
}
KEYS = {"read": "format", "clean": "filters.min_lenght", "dedupe": "treshold", "validate": "shema",
        "export": "val_sise", "stats": "htm"}
TYPOS["decontaminate"], KEYS["decontaminate"] = "{decontaminate: {treshold: 0.5}}", "treshold"  # issue 15


def test_every_stage_has_a_settings_model_that_forbids_unknown_keys() -> None:
    assert set(REGISTRY) == set(TYPOS)
    for name, spec in REGISTRY.items():
        assert spec.settings().model_config.get("extra") == "forbid", name
        check_stage(name, {}, "p.yaml")  # the defaults are valid


@pytest.mark.parametrize("stage", sorted(TYPOS))
def test_a_misspelled_key_in_any_stage_fails_before_any_work(stage: str, tmp_path: Path) -> None:
    (tmp_path / "in.jsonl").write_text('{"instruction": "a", "output": "b"}\n', encoding="utf-8")
    later = "" if stage == "stats" else ", stats"
    (tmp_path / "p.yaml").write_text(
        f"inputs: [{{path: in.jsonl}}]\noutput_dir: out\nstages: [clean, dedupe, validate, export{later}, "
        f"{TYPOS[stage]}]\n".replace(f", {stage},", ",").replace(f"[{stage}, ", "["), encoding="utf-8")
    result = CliRunner().invoke(cli, ["run", str(tmp_path / "p.yaml")])
    assert result.exit_code == 2
    assert result.stderr == f"Error: {tmp_path / 'p.yaml'}: {stage}: unknown key '{KEYS[stage]}'\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.jsonl", "p.yaml"]  # nothing written


def test_a_bad_value_names_file_stage_and_key() -> None:
    with pytest.raises(ConfigError, match=r"^p.yaml: export: format: "):
        check_stage("export", {"format": "csv"}, "p.yaml")
    with pytest.raises(ConfigError, match=r"^p.yaml: unknown stage 'polish'"):
        check_stage("polish", {}, "p.yaml")
