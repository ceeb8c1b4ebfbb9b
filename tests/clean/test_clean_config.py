"""Loading clean.yaml / clean.json: defaults, overrides, and one-line errors naming the bad key."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from datacraft.clean import CleanConfig, default_config_yaml, load_clean_config
from datacraft.errors import ConfigError


def _write(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_no_path_gives_defaults() -> None:
    config = load_clean_config(None)
    assert config == CleanConfig()
    assert config.filters.max_output_length == 4000
    assert config.normalize.t2s is False
    assert config.dedupe is not None and config.dedupe.enabled


def test_yaml_overrides(tmp_path: Path) -> None:
    path = _write(tmp_path, "clean.yaml", "normalize:\n  t2s: true\nfilters:\n  max_output_length: null\n"
                                          "  blacklist: [ChatGPT]\n  languages: [zh]\ndedupe:\n  threshold: 0.9\n")
    config = load_clean_config(path)
    assert config.normalize.t2s is True
    assert config.filters.max_output_length is None
    assert config.filters.blacklist == ["ChatGPT"]
    assert config.filters.languages == ["zh"]
    assert config.dedupe.threshold == 0.9
    assert config.filters.min_output_length == 1  # untouched keys keep their defaults


def test_json_config(tmp_path: Path) -> None:
    path = _write(tmp_path, "clean.json", json.dumps({"filters": {"refusal": False}, "dedupe": None}))
    config = load_clean_config(path)
    assert config.filters.refusal is False
    assert config.dedupe is None


def test_empty_file_gives_defaults(tmp_path: Path) -> None:
    assert load_clean_config(_write(tmp_path, "clean.yaml", "# nothing yet\n")) == CleanConfig()


@pytest.mark.parametrize("text, message", [
    ("filters:\n  min_lenght: 3\n", "unknown key 'filters.min_lenght' (see `datacraft clean --print-config`)"),
    ("normalise:\n  t2s: true\n", "unknown key 'normalise' (see `datacraft clean --print-config`)"),
    ("dedupe:\n  treshold: 0.9\n", "unknown key 'dedupe.treshold' (see `datacraft clean --print-config`)"),
    ("filters:\n  max_output_length: lots\n",
     "filters.max_output_length: Input should be a valid integer, unable to parse string as an integer (got 'lots')"),
    ("- a\n- list\n", "expected a mapping of settings"),
    ("filters: [unclosed\n", "not valid YAML: "),
])
def test_bad_config_is_one_line_naming_the_key(tmp_path: Path, text: str, message: str) -> None:
    path = _write(tmp_path, "clean.yaml", text)
    with pytest.raises(ConfigError) as info:
        load_clean_config(path)
    assert str(info.value).startswith(f"{path}: {message}")
    assert "\n" not in str(info.value)


def test_missing_config_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="config file not found"):
        load_clean_config(str(tmp_path / "nope.yaml"))


def test_printed_default_config_loads_back_as_the_defaults() -> None:
    text = default_config_yaml()
    assert "max_output_length: 4000  # " in text
    assert CleanConfig.model_validate(yaml.safe_load(text)) == CleanConfig()
