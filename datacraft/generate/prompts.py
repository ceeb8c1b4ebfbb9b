"""Prompt templates from `prompts/` (Jinja2), loaded by name or from a user's own file.

Templates see plain data (records, feedback entries, counts) and a `json` filter that prints a
record the way the model should answer: compact JSON with Chinese left readable.
"""

from __future__ import annotations

import hashlib
import json
from functools import cache
from pathlib import Path
from typing import Any

import jinja2

from datacraft.errors import ConfigError
from datacraft.resources import resource_dir

Messages = list[dict[str, str]]


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def excerpt(value: Any, limit: int = 80) -> str:
    """`value` on one line, cut to about `limit` characters (how counter-examples are shown).

    >>> excerpt("Sure!  Here is\\na long answer about tea.", 20)
    'Sure! Here is a lon…'
    """
    text = " ".join(str(value or "").split())
    return text if len(text) <= limit else text[:limit - 1].rstrip() + "…"


@cache
def _environment() -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(resource_dir("prompts"))),
                             undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True,
                             keep_trailing_newline=False, autoescape=False)
    env.filters["json"] = _json
    env.filters["excerpt"] = excerpt
    return env


def template_source(name: str, path: str | None = None) -> str:
    """The template text: the user's file when given, else the bundled `prompts/<name>.j2`."""
    if path is not None:
        try:
            return Path(path).read_text(encoding="utf-8-sig")
        except (FileNotFoundError, IsADirectoryError):
            raise ConfigError(f"{path}: prompt template not found") from None
    try:
        return (resource_dir("prompts") / f"{name}.j2").read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"no bundled prompt named {name!r} (looked in {resource_dir('prompts')})") from None


def template_version(name: str, path: str | None = None) -> str:
    """A short hash of the template text, recorded with each round (a changed prompt is a new round)."""
    return hashlib.sha256(template_source(name, path).encode("utf-8")).hexdigest()[:12]


def render(name: str, path: str | None = None, **context: Any) -> Messages:
    """Render a template into chat messages (one user message)."""
    env = _environment()
    try:
        tmpl = env.from_string(template_source(name, path)) if path else env.get_template(f"{name}.j2")
        text = tmpl.render(**context)
    except jinja2.TemplateSyntaxError as exc:
        raise ConfigError(f"{path or name}:{exc.lineno}: prompt template syntax error: {exc.message}") from None
    except jinja2.UndefinedError as exc:
        known = ", ".join(sorted(context))
        raise ConfigError(f"{path or name}: prompt template uses an unknown variable ({exc.message}); "
                          f"available: {known}") from None
    return [{"role": "user", "content": text.strip() + "\n"}]


def repair_messages(messages: Messages, reply: str, error: str, lang: str) -> Messages:
    """The conversation that asks the model to fix a reply that could not be parsed."""
    follow_up = render("repair", error=error, lang=lang)
    return [*messages, {"role": "assistant", "content": reply}, *follow_up]
