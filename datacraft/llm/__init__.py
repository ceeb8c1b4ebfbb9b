"""An async OpenAI-compatible client for batch work: cache, retries, adaptive concurrency, budget, cost."""

from __future__ import annotations

import importlib
from typing import Any

# Loaded on first use: `openai` takes about half a second to import, which every CLI start would pay.
_EXPORTS = {
    "ResponseCache": "cache", "request_key": "cache",
    "Completion": "client", "LLMClient": "client", "LLMError": "client", "RequestFailed": "client",
    "redact": "client", "retry_after": "client",
    "LLMConfig": "config", "Price": "config", "api_key": "config", "read_config_file": "config",
    "resolve_llm_config": "config",
    "AdaptiveLimiter": "limiter",
    "Budget": "usage", "BudgetExhausted": "usage", "Usage": "usage",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'datacraft.llm' has no attribute {name!r}")
    return getattr(importlib.import_module(f"datacraft.llm.{_EXPORTS[name]}"), name)
