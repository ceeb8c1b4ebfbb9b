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


# List prices, USD per 1M input / output tokens (cache misses), from each provider's pricing page in
# 2025; CNY prices converted at 7.2. They change: override or extend them under llm.prices in the
# config file. A model is matched by its name or the longest listed prefix ("gpt-4o-mini-2024-07-18").
DEFAULT_PRICES: dict[str, Price] = {
    # OpenAI
    "gpt-4o": Price(input=2.5, output=10.0),
    "gpt-4o-mini": Price(input=0.15, output=0.6),
    "gpt-4.1": Price(input=2.0, output=8.0),
    "gpt-4.1-mini": Price(input=0.4, output=1.6),
    "gpt-4.1-nano": Price(input=0.1, output=0.4),
    "gpt-5": Price(input=1.25, output=10.0),
    "gpt-5-mini": Price(input=0.25, output=2.0),
    "gpt-5-nano": Price(input=0.05, output=0.4),
    "o3": Price(input=2.0, output=8.0),
    "o3-mini": Price(input=1.1, output=4.4),
    "o4-mini": Price(input=1.1, output=4.4),
    # DeepSeek
    "deepseek-chat": Price(input=0.27, output=1.1),
    "deepseek-reasoner": Price(input=0.55, output=2.19),
    # Qwen on Alibaba Cloud Model Studio / DashScope (international)
    "qwen-max": Price(input=1.6, output=6.4),
    "qwen-plus": Price(input=0.4, output=1.2),
    "qwen-turbo": Price(input=0.05, output=0.2),
    "qwen-flash": Price(input=0.05, output=0.4),
    "qwen3-max": Price(input=1.2, output=6.0),
    # Moonshot (Kimi)
    "moonshot-v1-8k": Price(input=0.28, output=2.78),
    "moonshot-v1-32k": Price(input=0.69, output=2.78),
    "moonshot-v1-128k": Price(input=1.39, output=4.17),
    "kimi-k2": Price(input=0.6, output=2.5),
    # Zhipu (GLM)
    "glm-4-plus": Price(input=0.69, output=0.69),
    "glm-4-air": Price(input=0.07, output=0.07),
    "glm-4-flash": Price(input=0.0, output=0.0),
    "glm-4.5": Price(input=0.6, output=2.2),
    "glm-4.5-air": Price(input=0.2, output=1.1),
}
FREE = Price(input=0.0, output=0.0)
LOCAL_TIMEOUT = 600.0  # a local server on a CPU or a small GPU can take minutes before its first token
REMOTE_TIMEOUT = 120.0


def is_local(url: str | None) -> bool:
    """True for an endpoint on this machine or a private network (its requests cost nothing).

    >>> is_local("http://localhost:8000/v1"), is_local("http://192.168.1.5:8080/v1"), is_local("https://api.deepseek.com")
    (True, True, False)
    """
    import ipaddress

    host = urlsplit(url or DEFAULT_BASE_URL).hostname or ""
    if host in ("localhost", "host.docker.internal") or host.endswith(".local"):
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return address.is_loopback or address.is_private or address.is_unspecified


def _needs_max_completion_tokens(model: str) -> bool:
    """OpenAI's reasoning models refuse `max_tokens` and want `max_completion_tokens`."""
    name = model.rsplit("/", 1)[-1].lower()
    return name.startswith(("o1", "o3", "o4", "gpt-5"))


class LLMConfig(BaseModel):
    """How to reach an OpenAI-compatible chat endpoint and how hard to push it."""

    model_config = ConfigDict(extra="forbid")

    base_url: str | None = Field(None, description="endpoint, e.g. http://localhost:8000/v1 (default: $OPENAI_BASE_URL or OpenAI)")
    model: str | None = Field(None, description="model name the endpoint serves (required)")
    api_key_env: str = Field("OPENAI_API_KEY", description="environment variable holding the API key")
    concurrency: int = Field(8, ge=1, description="most requests in flight at once")
    min_concurrency: int = Field(1, ge=1, description="adaptive concurrency never goes below this")
    adaptive: bool = Field(True, description="halve concurrency on 429, grow it back slowly on success")
    timeout: float | None = Field(None, gt=0, description="seconds without a byte from the endpoint (streaming: between tokens) before a request is retried (None: 120, or 600 for a local server)")
    max_retries: int = Field(6, ge=0, description="retries on 429, 5xx, timeouts and connection errors")
    backoff_base: float = Field(1.0, ge=0, description="first retry waits about this many seconds, doubling")
    backoff_max: float = Field(60.0, ge=0, description="longest wait between retries (Retry-After may ask more)")
    temperature: float | None = Field(None, ge=0, le=2, description="sampling temperature (None: the command's default)")
    max_tokens: int | None = Field(None, ge=1, description="reply length limit in tokens (None: the command's default)")
    max_tokens_param: Literal["auto", "max_tokens", "max_completion_tokens", "none"] = Field(
        "auto", description="how to send the length limit: auto picks max_completion_tokens for o1/o3/o4/gpt-5 and switches when the endpoint asks; none never sends one")
    stream: bool = Field(True, description="stream replies, so a slow server shows progress and only a stalled stream times out")
    json_mode: Literal["auto", "on", "off"] = Field(
        "auto", description="response_format JSON mode: auto falls back when the endpoint rejects it")
    send_seed: bool = Field(True, description="send a per-request `seed` so replies are reproducible where supported")
    cache: str | None = Field(None, description="SQLite response cache path (None: the command's default place)")
    use_cache: bool = Field(True, description="false: always ask the endpoint, store nothing")
    prices: dict[str, Price] = Field({}, description="per-model prices, USD per 1M tokens, e.g. {my-model: {input: 1, output: 2}}")

    def price(self, model: str) -> Price | None:
        """The price of `model`: the config's, then the built-in list (longest prefix), free on a local server."""
        for table in (self.prices, DEFAULT_PRICES):
            if model in table:
                return table[model]
            prefixes = [name for name in table if model.startswith(f"{name}-")]
            if prefixes:
                return table[max(prefixes, key=len)]
        return FREE if is_local(self.base_url) else None

    @property
    def read_timeout(self) -> float:
        """Seconds of silence before a request counts as timed out."""
        if self.timeout is not None:
            return self.timeout
        return LOCAL_TIMEOUT if is_local(self.base_url) else REMOTE_TIMEOUT

    def limit_param(self, model: str) -> str | None:
        """The request parameter that carries the length limit (None: send none)."""
        if self.max_tokens_param == "none":
            return None
        if self.max_tokens_param == "auto":
            return "max_completion_tokens" if _needs_max_completion_tokens(model) else "max_tokens"
        return self.max_tokens_param

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
    address = urlsplit(merged.base_url or "")
    if address.scheme not in ("http", "https") or not address.hostname:
        raise ConfigError(f"base_url {redact_url(merged.base_url)!r} is not an http:// or https:// address, "
                          "e.g. --base-url http://localhost:8000/v1")
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
