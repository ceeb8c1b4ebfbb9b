"""The LLM endpoint options shared by every command that calls a model (generate, review, augment)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

from datacraft.llm.config import LLMConfig, resolve_llm_config

_FLAGS = ("base_url", "model", "api_key_env", "concurrency", "timeout", "cache")


def llm_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    """--base-url, --model, --api-key-env, --concurrency, --timeout, --cache, --no-cache."""
    options = [
        click.option("--base-url", default=None, metavar="URL",
                     help="OpenAI-compatible endpoint (default: $OPENAI_BASE_URL, else OpenAI)."),
        click.option("--model", default=None, metavar="NAME", help="Model name the endpoint serves."),
        click.option("--api-key-env", default=None, metavar="VAR",
                     help="Environment variable holding the API key (default OPENAI_API_KEY)."),
        click.option("--concurrency", type=int, default=None, help="Most requests in flight (default 8; adapts to 429s)."),
        click.option("--timeout", type=float, default=None, help="Seconds per request before retrying (default 120)."),
        click.option("--cache", default=None, metavar="PATH", help="Response cache (SQLite) to use or share."),
        click.option("--no-cache", is_flag=True, help="Neither read nor write the response cache."),
    ]
    for option in reversed(options):
        fn = option(fn)
    return fn


def llm_config(sections: dict[str, Any], where: str, flags: dict[str, Any]) -> LLMConfig:
    """The LLMConfig from the config file's `llm` section and the command-line flags."""
    given = {name: flags.get(name) for name in _FLAGS}
    if flags.get("no_cache"):
        given["use_cache"] = False
    return resolve_llm_config(sections.get("llm"), where=f"{where}: llm", **given)
