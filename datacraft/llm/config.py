"""LLM endpoint settings: a pydantic model filled from defaults < environment < config file < flags.

The API key itself is never a setting: `api_key_env` names the environment variable that holds it,
so the key cannot end up in a config file, a manifest or a cache.
"""

from __future__ import annotations

import os
from typing import Any, Literal
from urllib.parse import urlsplit, urlunsplit

from pydantic import BaseModel, ConfigDict, Field

from datacraft.config import read_config_file, validate_section  # noqa: F401 - re-exported
from datacraft.errors import ConfigError

DEFAULT_BASE_URL = "https://api.openai.com/v1"


class Price(BaseModel):
    """USD per million tokens."""

    model_config = ConfigDict(extra="forbid")

    input: float = Field(ge=0)
    output: float = Field(ge=0)


# List prices (USD per 1M tokens, OpenAI pricing page, 2025); override or extend in the config file.
DEFAULT_PRICES: dict[str, Price] = {
    "gpt-4o": Price(input=2.5, output=10.0),
    "gpt-4o-mini": Price(input=0.15, output=0.6),
    "gpt-4.1": Price(input=2.0, output=8.0),
    "gpt-4.1-mini": Price(input=0.4, output=1.6),
    "gpt-4.1-nano": Price(input=0.1, output=0.4),
}


class LLMConfig(BaseModel):
    """How to reach an OpenAI-compatible chat endpoint and how hard to push it."""

    model_config = ConfigDict(extra="forbid")

    base_url: str | None = Field(None, description="endpoint, e.g. http://localhost:8000/v1 (default: $OPENAI_BASE_URL or OpenAI)")
    model: str | None = Field(None, description="model name the endpoint serves (required)")
    api_key_env: str = Field("OPENAI_API_KEY", description="environment variable holding the API key")
    concurrency: int = Field(8, ge=1, description="most requests in flight at once")
    min_concurrency: int = Field(1, ge=1, description="adaptive concurrency never goes below this")
    adaptive: bool = Field(True, description="halve concurrency on 429, grow it back slowly on success")
    timeout: float = Field(120.0, gt=0, description="seconds per request before it is retried")
    max_retries: int = Field(6, ge=0, description="retries on 429, 5xx, timeouts and connection errors")
    backoff_base: float = Field(1.0, ge=0, description="first retry waits about this many seconds, doubling")
    backoff_max: float = Field(60.0, ge=0, description="longest wait between retries (Retry-After may ask more)")
    temperature: float | None = Field(None, ge=0, le=2, description="sampling temperature (None: the command's default)")
    max_tokens: int | None = Field(None, ge=1, description="reply length limit in tokens (None: the command's default)")
    json_mode: Literal["auto", "on", "off"] = Field(
        "auto", description="response_format JSON mode: auto falls back when the endpoint rejects it")
    send_seed: bool = Field(True, description="send a per-request `seed` so replies are reproducible where supported")
    cache: str | None = Field(None, description="SQLite response cache path (None: the command's default place)")
    use_cache: bool = Field(True, description="false: always ask the endpoint, store nothing")
    prices: dict[str, Price] = Field({}, description="per-model prices, USD per 1M tokens, e.g. {my-model: {input: 1, output: 2}}")

    def price(self, model: str) -> Price | None:
        """The price of `model`, from the config first, then the built-in list; None when unknown."""
        return self.prices.get(model) or DEFAULT_PRICES.get(model)

    def public(self) -> dict[str, Any]:
        """The settings as they may be written to a manifest: no key, no credentials in the URL."""
        data = self.model_dump(mode="json", exclude={"prices"})
        data["base_url"] = redact_url(self.base_url)
        return data


def redact_url(url: str | None) -> str | None:
    """Drop user:password from a URL.

    >>> redact_url("https://user:secret@host/v1")
    'https://***@host/v1'
    """
    if not url:
        return url
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    return urlunsplit(parts._replace(netloc="***@" + parts.netloc.rsplit("@", 1)[1]))


def resolve_llm_config(file_section: dict[str, Any] | None = None, *, where: str = "llm",
                       env: dict[str, str] | None = None, **flags: Any) -> LLMConfig:
    """Merge defaults < environment (OPENAI_BASE_URL) < config-file section < command-line flags.

    Flags that are None are "not given". The result must name a model.
    """
    env = os.environ if env is None else env
    config = validate_section(LLMConfig, file_section, where)
    updates = {key: value for key, value in flags.items() if value is not None}
    if "api_key" in updates:
        raise ConfigError("the API key is never a setting: put it in an environment variable (--api-key-env)")
    merged = config.model_copy(update=updates)
    if not merged.base_url:
        merged.base_url = env.get("OPENAI_BASE_URL") or DEFAULT_BASE_URL
    merged = validate_section(LLMConfig, merged.model_dump(), where)  # re-check the flags' values
    if not merged.model:
        raise ConfigError("no model given: pass --model NAME (or set llm.model in the config file)")
    if merged.min_concurrency > merged.concurrency:
        raise ConfigError(f"min_concurrency ({merged.min_concurrency}) is above concurrency ({merged.concurrency})")
    return merged


def api_key(config: LLMConfig, env: dict[str, str] | None = None) -> str:
    """The API key from the environment variable the config names.

    Local servers accept any key, so a missing key is only an error for the OpenAI endpoint itself.
    """
    env = os.environ if env is None else env
    key = env.get(config.api_key_env, "")
    if not key:
        if (config.base_url or DEFAULT_BASE_URL).rstrip("/") == DEFAULT_BASE_URL:
            raise ConfigError(f"no API key: set {config.api_key_env} (or point --base-url at a local server)")
        return "not-needed"  # the openai client insists on some key; local servers ignore it
    return key
