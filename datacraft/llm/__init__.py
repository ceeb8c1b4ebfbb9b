"""An async OpenAI-compatible client for batch work: cache, retries, adaptive concurrency, budget, cost."""

from datacraft.llm.cache import ResponseCache, request_key
from datacraft.llm.client import Completion, LLMClient, LLMError, RequestFailed, redact, retry_after
from datacraft.llm.config import LLMConfig, Price, api_key, read_config_file, resolve_llm_config
from datacraft.llm.limiter import AdaptiveLimiter
from datacraft.llm.usage import Budget, BudgetExhausted, Usage

__all__ = [
    "AdaptiveLimiter",
    "Budget",
    "BudgetExhausted",
    "Completion",
    "LLMClient",
    "LLMConfig",
    "LLMError",
    "Price",
    "RequestFailed",
    "ResponseCache",
    "Usage",
    "api_key",
    "read_config_file",
    "redact",
    "request_key",
    "resolve_llm_config",
    "retry_after",
]
