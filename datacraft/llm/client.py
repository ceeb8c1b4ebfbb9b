"""An async client for any OpenAI-compatible chat endpoint, built for thousands of batch requests.

It adds what batch generation needs: a response cache (a rerun never pays twice), retries with
exponential backoff and jitter that honour Retry-After, adaptive concurrency, a request/cost
budget, token and cost accounting, and a fallback for endpoints that reject `response_format`,
`seed`, streaming or `max_tokens`. Replies are streamed: the timeout counts silence (no token for
that long), never total time, so a slow server that keeps producing tokens is never cut off and
re-asked while it still works. Requests go out through `datacraft.llm.http` (a lean HTTP/1.1
client: a tenth of the CPU of the openai SDK per request), or through the openai SDK where a proxy
is configured. The API key goes into the Authorization header and nowhere else; error messages
are scrubbed of anything that looks like a key.
"""

from __future__ import annotations

import asyncio
import email.utils
import importlib.util
import json
import os
import random
import re
import time
from dataclasses import dataclass
from typing import Any

import orjson

from datacraft import __version__
from datacraft.errors import ConfigError, DatacraftError
from datacraft.llm.cache import ResponseCache, request_key
from datacraft.llm.config import DEFAULT_BASE_URL, LLMConfig, api_key, redact_url
from datacraft.llm.http import HTTPClient, error_message, uses_proxy
from datacraft.llm.limiter import FAILED, OK, RATE_LIMITED, AdaptiveLimiter
from datacraft.llm.usage import Budget, Usage

# Optional request parameters an endpoint may refuse; each is dropped for the session once refused.
_DROPPABLE = ("response_format", "seed", "stream_options", "stream")
_KEYLIKE = re.compile(r"\b(sk|key|api)[-_][A-Za-z0-9_\-*]{6,}", re.IGNORECASE)
_RETRY_AFTER_CAP = 300.0  # seconds; a longer Retry-After is treated as this


def _http_errors() -> tuple[tuple[type[BaseException], ...], tuple[type[BaseException], ...]]:
    """(timeouts, transport errors) of the HTTP library under `openai`: httpx, or httpx2 in newer builds."""
    import httpx

    timeouts: list[type[BaseException]] = [httpx.TimeoutException]
    transport: list[type[BaseException]] = [httpx.TransportError]
    if importlib.util.find_spec("httpx2") is not None:
        import httpx2

        timeouts.append(httpx2.TimeoutException)
        transport.append(httpx2.TransportError)
    return tuple(timeouts), tuple(transport)


class _Refused(Exception):
    """An error status from the endpoint, however it was reached: status, headers, message, param."""

    def __init__(self, status: int, headers: Any, message: str, param: str | None):
        super().__init__(message)
        self.status_code = status
        self.headers = headers
        self.message = message
        self.param = param


class LLMError(DatacraftError):
    """The endpoint refused in a way retrying cannot fix (bad key, unknown model, unreachable)."""


class RequestFailed(Exception):
    """One request failed for good (retries used up, or refused); the run may go on without it."""

    def __init__(self, reason: str, detail: str):
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


@dataclass
class Completion:
    """One reply: its text, why it stopped, tokens, cost (None when the model's price is unknown)."""

    text: str
    finish_reason: str
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost: float | None = None
    cached: bool = False
    model: str = ""
    attempts: int = 0


def redact(text: str, secret: str | None = None) -> str:
    """Remove an API key (and anything shaped like one) from a message.

    >>> redact("Incorrect API key provided: sk-abc123def456ghi")
    'Incorrect API key provided: sk-***'
    """
    if secret and len(secret) >= 4:
        text = text.replace(secret, "***")
    return _KEYLIKE.sub(lambda m: f"{m.group(1)}-***", text)


def retry_after(headers: Any) -> float | None:
    """Seconds to wait from `retry-after-ms` or `Retry-After` (seconds or an HTTP date)."""
    if headers is None:
        return None
    value = headers.get("retry-after-ms")
    if value:
        try:
            return min(_RETRY_AFTER_CAP, max(0.0, float(value) / 1000))
        except ValueError:
            pass
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return min(_RETRY_AFTER_CAP, max(0.0, float(value)))
    except ValueError:
        when = email.utils.parsedate_to_datetime(value) if value else None
        if when is None:
            return None
        return min(_RETRY_AFTER_CAP, max(0.0, when.timestamp() - time.time()))


class LLMClient:
    """`async with LLMClient(config) as llm: reply = await llm.complete(messages, json_mode=True)`."""

    def __init__(self, config: LLMConfig, *, cache: ResponseCache | None = None, budget: Budget | None = None,
                 key: str | None = None):
        assert config.model, "resolve_llm_config makes sure a model is named"
        self.config = config
        self.model = config.model
        self.cache = cache
        self.budget = budget or Budget()
        self._key = key if key is not None else api_key(config)
        silence = config.read_timeout  # per read: silence, not total time
        base_url = config.base_url or DEFAULT_BASE_URL
        self._http: HTTPClient | None = None
        self._openai: Any = None
        if uses_proxy(base_url):  # the SDK's httpx honours HTTP(S)_PROXY / ALL_PROXY / NO_PROXY
            import httpx
            import openai

            self._openai = openai.AsyncOpenAI(base_url=config.base_url, api_key=self._key, max_retries=0,
                                              timeout=httpx.Timeout(silence, connect=min(30.0, silence)))
        else:
            try:
                self._http = HTTPClient(base_url, _headers(self._key), timeout=silence,
                                        connect_timeout=min(30.0, silence))
            except ValueError:
                raise ConfigError(f"--base-url {redact_url(base_url)!r} is not an http:// or https:// address, "
                                  "e.g. http://localhost:8000/v1") from None
        self.limit_param = config.limit_param(config.model)
        self.price = config.price(config.model)  # once: the lookup parses the endpoint's address
        self.limiter = AdaptiveLimiter(config.concurrency, config.min_concurrency, config.adaptive)
        self.usage = Usage()
        self.dropped: set[str] = set()  # optional parameters this endpoint refused
        if config.json_mode == "off":
            self.dropped.add("response_format")
        if not config.send_seed:
            self.dropped.add("seed")
        if not config.stream:
            self.dropped.update(("stream", "stream_options"))

    async def __aenter__(self) -> LLMClient:
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        if self._http is not None:
            await self._http.aclose()
        if self._openai is not None:
            await self._openai.close()

    # -- requests ----------------------------------------------------------------------------------
    def params(self, *, json_mode: bool = False, seed: int | None = None, temperature: float | None = None,
               max_tokens: int | None = None) -> dict[str, Any]:
        """The logical request parameters: what the cache key and the wire request are made from."""
        params: dict[str, Any] = {}
        temperature = self.config.temperature if self.config.temperature is not None else temperature
        max_tokens = self.config.max_tokens if self.config.max_tokens is not None else max_tokens
        if temperature is not None:
            params["temperature"] = temperature
        if max_tokens is not None:
            params["max_tokens"] = max_tokens
        if seed is not None:
            params["seed"] = seed
        if json_mode and self.config.json_mode != "off":
            params["response_format"] = {"type": "json_object"}
        return params

    def lookup(self, messages: list[dict[str, Any]], params: dict[str, Any]) -> Completion | None:
        """The cached reply for this request, if any (free: no budget, no network)."""
        if self.cache is None:
            return None
        stored = self.cache.get(request_key(self.model, messages, params))
        if stored is None:
            return None
        self.usage.cached += 1
        return Completion(stored["text"], stored["finish_reason"], stored.get("prompt_tokens", 0),
                          stored.get("completion_tokens", 0), 0.0, True, stored.get("model", self.model))

    async def complete(self, messages: list[dict[str, Any]], **options: Any) -> Completion:
        """One chat completion, from the cache or the endpoint; raises RequestFailed, BudgetExhausted, LLMError."""
        params = self.params(**options)
        cached = self.lookup(messages, params)
        if cached is not None:
            return cached
        await self.budget.claim()
        cost: float | None = None
        try:
            completion = await self._send(messages, params)
            cost = completion.cost
        finally:
            self.budget.settle(cost)
        if self.cache is not None:
            self.cache.put(request_key(self.model, messages, params), self.model, {
                "text": completion.text, "finish_reason": completion.finish_reason,
                "prompt_tokens": completion.prompt_tokens, "completion_tokens": completion.completion_tokens,
                "model": completion.model})
        return completion

    def wire(self, params: dict[str, Any]) -> dict[str, Any]:
        """The parameters as sent: refused ones dropped, the length limit under the name the model wants."""
        wire = {k: v for k, v in params.items() if k not in self.dropped}
        limit = wire.pop("max_tokens", None)
        if limit is not None and self.limit_param is not None:
            wire[self.limit_param] = limit
        if "stream" not in self.dropped:
            wire["stream"] = True
            if "stream_options" not in self.dropped:
                wire["stream_options"] = {"include_usage": True}
        return wire

    async def _request(self, messages: list[dict[str, Any]], wire: dict[str, Any]) -> tuple[Any, ...]:
        """(text, finish_reason, prompt_tokens, completion_tokens, model) of one attempt."""
        if self._http is None:
            return await self._request_sdk(messages, wire)
        body = orjson.dumps({"model": self.model, "messages": messages, **wire})
        stream = bool(wire.get("stream"))
        response = await self._http.post("/chat/completions", body,
                                         accept="text/event-stream" if stream else "application/json")
        try:
            if response.status != 200:
                message, param, _ = error_message(response.status, await response.read())
                raise _Refused(response.status, response.headers, message, param)
            if not stream or "text/event-stream" not in response.headers.get("content-type", "text/event-stream"):
                data = orjson.loads(await response.read())
                if not isinstance(data, dict):
                    raise json.JSONDecodeError("the reply is not an object", str(data)[:100], 0)
                return _whole_reply(data)
            return await self._events(messages, response.lines())
        finally:
            response.close()

    async def _events(self, messages: list[dict[str, Any]], lines: Any) -> tuple[Any, ...]:
        """Read an event stream (`data: {json}` lines) to its end: a connection left mid-body cannot be reused."""
        parts: list[str] = []
        finish = model = None
        prompt = completion = 0
        async for line in lines:
            if not line.startswith(b"data:"):
                continue
            data = line[5:].strip()
            if data == b"[DONE]":
                continue
            event = orjson.loads(data)
            if not isinstance(event, dict):
                raise json.JSONDecodeError("an event is not an object", data.decode("utf-8", "replace"), 0)
            if event.get("error"):
                raise RequestFailed("stream_error", redact(str(event["error"])[:300], self._key))
            model = event.get("model") or model
            usage = event.get("usage")
            if usage:
                prompt, completion = usage.get("prompt_tokens") or 0, usage.get("completion_tokens") or 0
            for choice in event.get("choices") or ():
                content = (choice.get("delta") or {}).get("content")
                if content:
                    parts.append(content)
                finish = choice.get("finish_reason") or finish
        if not completion and parts:  # no usage event: estimate, so cost caps still hold
            completion = max(1, len("".join(parts)) // 4)
            prompt = prompt or max(1, sum(len(str(m.get("content", ""))) for m in messages) // 4)
        return "".join(parts), finish, prompt, completion, model

    async def _request_sdk(self, messages: list[dict[str, Any]], wire: dict[str, Any]) -> tuple[Any, ...]:
        """The same attempt through the openai SDK (a proxy is configured); its errors mapped to ours."""
        import openai

        timeouts, transport = _http_errors()
        try:
            if not wire.get("stream"):
                response = await self._openai.chat.completions.create(model=self.model, messages=messages, **wire)
                return _whole_reply(response.model_dump())
            async with self._openai.chat.completions.with_streaming_response.create(
                    model=self.model, messages=messages, **wire) as response:
                return await self._events(messages, _encoded(response.iter_lines()))
        except openai.APIStatusError as exc:
            raise _Refused(exc.status_code, exc.response.headers, exc.message, exc.param) from None
        except (openai.APITimeoutError, *timeouts) as exc:
            raise asyncio.TimeoutError() from exc
        except (openai.APIConnectionError, *transport) as exc:
            raise ConnectionError(str(exc) or type(exc).__name__) from exc

    async def _send(self, messages: list[dict[str, Any]], params: dict[str, Any]) -> Completion:
        attempt = 0
        while True:
            wire = self.wire(params)
            token = await self.limiter.acquire(first=attempt > 0)  # a retry has waited already
            self.usage.attempts += 1
            outcome, wait, problem = FAILED, None, ""
            try:
                reply = await self._request(messages, wire)
                outcome = OK
            except _Refused as exc:
                if exc.status_code == 429:
                    outcome, wait, problem = RATE_LIMITED, retry_after(exc.headers), "rate_limited"
                    self.usage.rate_limited += 1
                elif exc.status_code in (408, 409) or exc.status_code >= 500:
                    self.usage.server_errors += 1
                    wait, problem = retry_after(exc.headers), f"http_{exc.status_code}"
                else:
                    refused = self._refused_param(exc, wire)
                    self.limiter.release(token, FAILED)
                    if refused:  # resend at once without it: not a retry
                        continue
                    self._raise_refusal(exc)
            except asyncio.TimeoutError:
                # silent for `timeout` seconds: the server is stalled or overloaded; fewer requests at once
                outcome = RATE_LIMITED
                self.usage.timeouts += 1
                problem = f"timeout (no data for {self.config.read_timeout:g} s)"
            except json.JSONDecodeError:  # a garbled event stream or body: the server's fault, worth a retry
                self.usage.server_errors += 1
                problem = "malformed event stream"
            except OSError as exc:  # refused, reset, DNS, TLS, a reply that is not HTTP
                self.usage.connection_errors += 1
                problem = f"connection_error ({redact(str(exc) or type(exc).__name__, self._key)})"
            except BaseException:  # cancelled (Ctrl-C, end of round) or unexpected: give the slot back
                self.limiter.release(token, FAILED)
                raise
            if outcome == OK:
                self.limiter.release(token, OK)
                return self._completion(*reply, attempts=attempt + 1)
            self.limiter.release(token, outcome)
            attempt += 1
            if attempt > self.config.max_retries:
                self.usage.failed += 1
                raise RequestFailed("request_failed", f"{problem} after {attempt} attempts")
            self.usage.retries += 1
            await asyncio.sleep(self._backoff(attempt, wait))

    def _backoff(self, attempt: int, wait: float | None) -> float:
        """Exponential backoff with jitter; a Retry-After from the endpoint wins when it asks for more."""
        ceiling = min(self.config.backoff_max, self.config.backoff_base * 2 ** (attempt - 1))
        jittered = ceiling / 2 + random.uniform(0, ceiling / 2)
        if wait is not None:
            return wait + random.uniform(0, min(1.0, wait * 0.1))  # spread the herd a little
        return jittered

    def _refused_param(self, exc: _Refused, wire: dict[str, Any]) -> bool:
        """Adapt to a 400/422 that refuses an optional parameter; True when the request can be resent."""
        if exc.status_code not in (400, 422):
            return False
        text = f"{exc.param or ''} {exc.message}".lower()
        if self.limit_param in wire and self.limit_param in text:
            other = "max_completion_tokens" if self.limit_param == "max_tokens" else "max_tokens"
            # "use max_completion_tokens instead" switches the name; a plain refusal drops the limit
            self.limit_param = other if other in text else None
            return True
        for name in _DROPPABLE:
            if name in wire and name in text:
                if name == "response_format" and self.config.json_mode == "on":
                    return False
                self.dropped.add(name)
                if name == "stream":
                    self.dropped.add("stream_options")
                return True
        return False

    def _raise_refusal(self, exc: _Refused) -> None:
        detail = redact(f"HTTP {exc.status_code}: {exc.message}", self._key)
        if exc.status_code in (401, 403):
            raise LLMError(f"{self.config.base_url} refused the API key ({detail}); check ${self.config.api_key_env}")
        if exc.status_code == 404:
            raise LLMError(f"{self.config.base_url}: model {self.model!r} or the chat endpoint was not found ({detail})")
        self.usage.failed += 1
        raise RequestFailed("request_refused", detail)

    def _completion(self, text: str, finish: str | None, prompt: int, completion: int, model: str | None, *,
                    attempts: int) -> Completion:
        self.usage.requests += 1
        prompt, completion = prompt or 0, completion or 0
        self.usage.prompt_tokens += prompt
        self.usage.completion_tokens += completion
        price = self.price
        cost = None
        if price is None:
            self.usage.cost_known = False
        else:
            cost = (prompt * price.input + completion * price.output) / 1_000_000
            self.usage.cost += cost
        return Completion(text, finish or "stop", prompt, completion, cost, False, model or self.model, attempts)


def _headers(key: str) -> dict[str, str]:
    """The headers every request carries (as the openai SDK sends them, minus its telemetry)."""
    headers = {"Authorization": f"Bearer {key}", "User-Agent": f"datacraft/{__version__}"}
    for variable, name in (("OPENAI_ORG_ID", "OpenAI-Organization"), ("OPENAI_PROJECT_ID", "OpenAI-Project")):
        if os.environ.get(variable):
            headers[name] = os.environ[variable]
    return headers


def _whole_reply(data: dict[str, Any]) -> tuple[Any, ...]:
    """(text, finish_reason, prompt_tokens, completion_tokens, model) of a reply that was not streamed."""
    choices = data.get("choices") or []
    choice = choices[0] if choices else {}
    text = (choice.get("message") or {}).get("content") or ""
    usage = data.get("usage") or {}
    return (text, choice.get("finish_reason"), usage.get("prompt_tokens") or 0, usage.get("completion_tokens") or 0,
            data.get("model"))


async def _encoded(lines: Any) -> Any:
    async for line in lines:
        yield line.encode("utf-8")
