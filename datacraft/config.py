"""Config files, read one way everywhere: YAML or JSON, pydantic models, unknown keys named."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from datacraft.errors import ConfigError


def read_config_file(path: str | Path) -> dict[str, Any]:
    """A YAML or JSON mapping from `path` ({} for an empty file); ConfigError for a missing or malformed one."""
    source = Path(path)
    if source.is_dir():
        raise ConfigError(f"{path}: is a directory, not a config file")
    try:
        text = source.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise ConfigError(f"{path}: config file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read config ({exc})") from None
    try:
        data = json.loads(text) if source.suffix.lower() == ".json" else yaml.safe_load(text)
    except (json.JSONDecodeError, yaml.YAMLError) as exc:
        raise ConfigError(f"{path}: not valid {'JSON' if source.suffix.lower() == '.json' else 'YAML'}: "
                          f"{' '.join(str(exc).split())}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping of settings")
    return data


def validate_section(model: type[BaseModel], data: Any, where: str, hint: str = "") -> Any:
    """Build `model` from a config section; an unknown or bad key is a ConfigError naming it.

    `hint` follows the unknown-key message, e.g. " (see `datacraft clean --print-config`)".
    """
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"{where}: expected a mapping")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        error = exc.errors()[0]
        key = ".".join(str(part) for part in error["loc"])
        if error["type"] == "extra_forbidden":
            raise ConfigError(f"{where}: unknown key {key!r}{hint}") from None
        raise ConfigError(f"{where}: {key}: {error['msg']} (got {error.get('input')!r})") from None


def load_sections(path: str | None, sections: tuple[str, ...]) -> dict[str, Any]:
    """The top-level sections of a config file ({} when no file); an unknown section is an error."""
    if path is None:
        return {}
    data = read_config_file(path)
    for key in data:
        if key not in sections:
            raise ConfigError(f"{path}: unknown section {key!r} (expected {', '.join(sections)})")
    return data
