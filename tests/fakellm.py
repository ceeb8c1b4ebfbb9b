"""A real OpenAI-compatible HTTP server on 127.0.0.1 for tests and benchmarks, scriptable per test.

It speaks `POST /v1/chat/completions` (JSON in, JSON out, or Server-Sent Events with chunked
transfer encoding when the request says `"stream": true`, as OpenAI and vLLM do; HTTP/1.1
keep-alive) on a ThreadingHTTPServer, so 32+ slow requests can be in flight at once. What it replies is decided by
`script` (a queue of `Reply`s served first, in order) and then by `handler(body, index)`; the
default handler invents `items_per_reply` distinct, deterministic Alpaca items from the request's
`seed` (or a hash of its messages), so reruns of the same request get the same reply.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

SECRET = "sk-test-SECRET-0123456789abcdef"  # a fake API key that must never show up in any output
_CONSONANTS = "bcdfghjklmnprstvz"
_VOWELS = "aeiou"
_HANZI = "的一是在不了有和人这中大为上个国我以要他时来用们生到作地于出就分对成会可主发年动同工也能下过子说产种面而方后多定行学法所民得经十三之进着等部度家电力里如水化高自二理起小物现实加量都两体制机当使点从业本去把性好应开它合还因由其些然前外天政四日那社义事平形相全表间样与关各重新线内数正心反你明看原又么利比或但质气第向道命此变条只没结解问意建月公无系军很情者最立代想已通并提直题党程展五果料象员革位入常文总次品式活设及管特件长求老头基资边流路级少图山统接知较将组见计别她手角期根论运农指几九区强放决西被干做必战先回则任取据处队南给色光门即保治北造百规热领七海口东导器压志世金增争济阶油思术极交受联什认六共权收证改清己美再采转更单风切打白教速花带安场身车例真务具万每目至达走积示议声报斗完类八离华名确才科张信马节话米整空元况今集温传土许步群广石记需段研界拉林律叫且究观越织装影算低持音众书布复容儿须际商非验连断深难近矿千周委素技备半办青省列习响约支般史感劳便团往酸历市克何除消构府称太准精值号率族维划选标写存候毛亲快效斯院查江型眼王按格养易置派层片始却专状育厂京识适属圆包火住调满县局照参红细引听该铁价严"


@dataclass
class Reply:
    """One scripted reply: message text, or an error status with headers and a raw body."""

    content: str | None = None
    finish_reason: str = "stop"
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    body: Any = None  # raw error body (dict or str); default is an OpenAI-style error object
    usage: dict[str, int] | None = None
    pieces: int = 4  # streamed: the content goes out in this many chunks
    chunk_delay: float = 0.0  # streamed: seconds between chunks (a slow server that keeps working)
    stall: float = 0.0  # streamed: seconds of silence after half the content (a stalled server)


def _word(rng: random.Random) -> str:
    return "".join(rng.choice(_CONSONANTS) + rng.choice(_VOWELS) for _ in range(rng.randint(2, 3)))


def invent_items(seed: int, count: int, lang: str = "en") -> list[dict[str, str]]:
    """Deterministic, mutually dissimilar Alpaca items for a given seed."""
    rng = random.Random(seed)
    items = []
    for _ in range(count):
        if lang == "zh":
            instruction = "请说明" + "".join(rng.choice(_HANZI) for _ in range(rng.randint(10, 16))) + "。"
            output = "".join(rng.choice(_HANZI) for _ in range(rng.randint(30, 60))) + "。"
        else:
            instruction = "Explain " + " ".join(_word(rng) for _ in range(rng.randint(7, 11))) + "."
            output = " ".join(_word(rng) for _ in range(rng.randint(18, 30))).capitalize() + "."
        items.append({"instruction": instruction, "input": "", "output": output})
    return items


def grounded_items(passage: str, count: int) -> list[dict[str, str]]:
    """Question-answer pairs whose answers are sentences of the passage, asked in its script."""
    import re

    sentences = [s.strip() for s in re.split(r"(?<=[.!?。！？])\s*", passage) if len(s.strip()) > 8] or [passage.strip()]
    cjk = bool(re.search("[\u4e00-\u9fff]", passage))
    items = []
    for number in range(count):
        sentence = sentences[number % len(sentences)]
        ask = f"请根据资料说明：{sentence[:12]}（第{number + 1}问）" if cjk else f"What does the text say about {sentence[:30]} (question {number + 1})?"
        items.append({"instruction": ask, "input": "", "output": sentence})
    return items


def invent_conversations(seed: int, count: int, turns: int, lang: str = "en") -> list[dict[str, Any]]:
    """Deterministic conversations whose follow-ups ask about a word of the answer before them."""
    rng = random.Random(seed)
    chats = []
    for item in invent_items(seed, count, lang):
        pairs = [{"user": item["instruction"], "assistant": item["output"]}]
        for _ in range(turns - 1):
            word = rng.choice(pairs[-1]["assistant"].rstrip("。.").split() or [pairs[-1]["assistant"][:4]])
            if lang == "zh":
                word = pairs[-1]["assistant"][rng.randrange(max(1, len(pairs[-1]["assistant"]) - 4)):][:3]
                ask, answer = f"你刚才提到的“{word}”是什么意思？", "".join(rng.choice(_HANZI) for _ in range(rng.randint(20, 40))) + "。"
            else:
                ask = f"Can you say more about {word.lower()} in that answer?"
                answer = " ".join(_word(rng) for _ in range(rng.randint(12, 24))).capitalize() + "."
            pairs.append({"user": ask, "assistant": answer})
        chats.append({"turns": pairs})
    return chats


def invent_answer(prompt: str, seed: int, temperature: float, lang: str = "en") -> str:
    """A plain-text answer: deterministic per (prompt, seed, temperature); hotter ones are shorter."""
    rng = random.Random(f"{prompt}:{seed}:{temperature}")
    words = rng.randint(8, 16) if temperature > 0.7 else rng.randint(20, 40)
    if lang == "zh" or re.search("[\u4e00-\u9fff]", prompt):
        return "".join(rng.choice(_HANZI) for _ in range(words * 2)) + "。"
    return " ".join(_word(rng) for _ in range(words)).capitalize() + "."


def judge_verdict(prompt: str, attempt: int = 0) -> dict[str, Any]:
    """Scores 1-10 for each `Candidate X:` block of a judge prompt, from a hash of its text and the attempt."""
    blocks = re.findall(r'\nCandidate ([A-Z]):\n"""\n(.*?)\n"""', prompt, re.DOTALL)
    ratings = []
    for label, text in blocks:
        digest = hashlib.sha256(f"{attempt}:{text}".encode()).digest()
        ratings.append({"candidate": label, "score": 1 + digest[0] % 10, "rationale": f"{len(text)} characters"})
    return {"ratings": ratings, "rationale": "scored by the fake judge"}


def request_seed(body: dict[str, Any]) -> int:
    """The request's `seed`, or a stable hash of its messages when it sent none."""
    if isinstance(body.get("seed"), int):
        return body["seed"]
    digest = hashlib.sha256(json.dumps(body.get("messages"), sort_keys=True).encode()).digest()
    return int.from_bytes(digest[:6], "big")


class FakeLLM:
    """The server. `with FakeLLM() as llm: ... llm.url ...`; inspect `llm.requests` afterwards."""

    def __init__(self, handler: Callable[[dict[str, Any], int], Reply | str] | None = None, *,
                 delay: float = 0.0, items_per_reply: int = 5, lang: str = "en",
                 max_concurrent: int | None = None, retry_after: str | None = "1",
                 reject_response_format: bool = False, reject_stream: bool = False,
                 reject_max_tokens: bool = False, kinds: bool = False):
        self.handler = handler or (self.kinds if kinds else self.invent)  # kinds: also multi-turn, answers, judging
        self.delay = delay  # added to every reply
        self.items_per_reply = items_per_reply
        self.lang = lang
        self.max_concurrent = max_concurrent  # above this many in flight, reply 429 at once
        self.retry_after = retry_after
        self.reject_response_format = reject_response_format  # act like an endpoint without JSON mode
        self.reject_stream = reject_stream  # an endpoint that cannot stream
        self.reject_max_tokens = reject_max_tokens  # a reasoning model that wants max_completion_tokens
        self.streamed = 0  # replies sent as event streams
        self.script: list[Reply] = []
        self.requests: list[dict[str, Any]] = []  # every body received, in arrival order
        self.headers: list[dict[str, str]] = []
        self.completed = 0  # 200 replies fully written
        self.rate_limited = 0
        self.in_flight = 0
        self.max_in_flight = 0
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    # -- replies ---------------------------------------------------------------------------------
    def invent(self, body: dict[str, Any], index: int) -> Reply:
        """Default handler: fresh items as a JSON object, deterministic per request seed.

        A prompt with a passage between triple quotes (--from-docs) gets answers quoted from it."""
        prompt = str((body.get("messages") or [{}])[-1].get("content", ""))
        passage = prompt.split('"""\n', 1)[1].split('\n"""', 1)[0] if prompt.count('"""') >= 2 else None
        if passage is not None and len(body.get("messages", [])) == 1:
            items = grounded_items(passage, self.items_per_reply)
        else:
            items = invent_items(request_seed(body), self.items_per_reply, self.lang)
        return Reply(json.dumps({"items": items}, ensure_ascii=False))

    def kinds(self, body: dict[str, Any], index: int) -> Reply:
        """Handler for every kind of `generate`: conversations, plain answers, judge verdicts, else `invent`."""
        messages = body.get("messages") or [{}]
        prompt = str(messages[-1].get("content", ""))
        first = next((str(m.get("content", "")) for m in messages if m.get("role") == "user"), "")
        if "\nCandidate A:\n" in first:
            return Reply(json.dumps(judge_verdict(first, sum(m.get("role") == "assistant" for m in messages))))
        asked = re.search(r"Write (\d+) new conversations.*?exactly (\d+) user turns", prompt, re.DOTALL)
        if asked:
            chats = invent_conversations(request_seed(body), int(asked[1]), int(asked[2]), self.lang)
            return Reply(json.dumps({"conversations": chats}, ensure_ascii=False))
        if "response_format" not in body:
            return Reply(invent_answer(prompt, request_seed(body), float(body.get("temperature", 1.0)), self.lang))
        return self.invent(body, index)

    def _next_reply(self, body: dict[str, Any], index: int) -> Reply:
        with self._lock:
            scripted = self.script.pop(0) if self.script else None
        reply = scripted or self.handler(body, index)
        return Reply(reply) if isinstance(reply, str) else reply

    # -- lifecycle -------------------------------------------------------------------------------
    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    def start(self) -> FakeLLM:
        fake = self

        class Handler(_Handler):
            server_fake = fake

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler, bind_and_activate=False)
        server.request_queue_size = 256  # a burst of 64 connections must not be refused
        server.daemon_threads = True
        server.server_bind()
        server.server_activate()
        self._server = server
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> FakeLLM:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as real endpoints do
    disable_nagle_algorithm = True  # headers and body go out in two writes: no 40 ms delayed-ACK stall
    server_fake: FakeLLM

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - silence per-request logs
        return

    def _send(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
        data = payload if isinstance(payload, bytes) else json.dumps(payload, ensure_ascii=False).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(data)
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):  # the client gave up (timeout): fine
            self.close_connection = True
            raise

    def _stream(self, body: dict[str, Any], reply: Reply) -> None:
        """The reply as Server-Sent Events: role, content pieces, finish, usage (if asked), [DONE]."""
        full = _completion(body, reply)
        content = reply.content or ""
        size = max(1, -(-len(content) // max(1, reply.pieces)))
        pieces = [content[i:i + size] for i in range(0, len(content), size)] or [""]
        base = {"id": full["id"], "object": "chat.completion.chunk", "created": full["created"], "model": full["model"]}

        def event(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
            return {**base, "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}

        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Transfer-Encoding", "chunked")
        for key, value in reply.headers.items():
            self.send_header(key, value)
        self.end_headers()
        self._event(event({"role": "assistant", "content": ""}))
        for number, piece in enumerate(pieces):
            if number and reply.chunk_delay:
                time.sleep(reply.chunk_delay)
            if reply.stall and number == len(pieces) // 2:
                time.sleep(reply.stall)
            self._event(event({"content": piece}))
        self._event(event({}, reply.finish_reason))
        if (body.get("stream_options") or {}).get("include_usage"):
            self._event({**base, "choices": [], "usage": full["usage"]})
        self._chunk(b"data: [DONE]\n\n")
        self._chunk(b"")
        with self.server_fake._lock:
            self.server_fake.streamed += 1

    def _event(self, payload: dict[str, Any]) -> None:
        self._chunk(b"data: " + json.dumps(payload, ensure_ascii=False).encode() + b"\n\n")

    def _chunk(self, data: bytes) -> None:
        self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        self.wfile.flush()

    def do_GET(self) -> None:  # noqa: N802 - counters for a benchmark running the server in another process
        fake = self.server_fake
        if self.path.rstrip("/") != "/stats":
            self._send(404, {"error": {"message": f"no route {self.path}"}})
            return
        with fake._lock:
            stats = {"requests": len(fake.requests), "completed": fake.completed, "rate_limited": fake.rate_limited,
                     "max_in_flight": fake.max_in_flight}
        self._send(200, stats)

    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        fake = self.server_fake
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if not self.path.rstrip("/").endswith("/chat/completions"):
            self._send(404, {"error": {"message": f"no route {self.path}", "type": "not_found"}})
            return
        body = json.loads(raw)
        with fake._lock:
            index = len(fake.requests)
            fake.requests.append(body)
            fake.headers.append({k.lower(): v for k, v in self.headers.items()})
            fake.in_flight += 1
            fake.max_in_flight = max(fake.max_in_flight, fake.in_flight)
            over = fake.max_concurrent is not None and fake.in_flight > fake.max_concurrent
            if over:
                fake.rate_limited += 1
        try:
            if over:
                headers = {"Retry-After": fake.retry_after} if fake.retry_after is not None else {}
                self._send(429, {"error": {"message": "Rate limit reached", "type": "rate_limit_error"}}, headers)
                return
            if fake.reject_stream and body.get("stream"):
                self._send(400, {"error": {"message": "stream is not supported by this server",
                                           "type": "invalid_request_error", "param": "stream"}})
                return
            if fake.reject_max_tokens and "max_tokens" in body:
                self._send(400, {"error": {"message": "Unsupported parameter: 'max_tokens' is not supported with this "
                                           "model. Use 'max_completion_tokens' instead.",
                                           "type": "invalid_request_error", "param": "max_tokens"}})
                return
            if fake.reject_response_format and "response_format" in body:
                self._send(400, {"error": {"message": "Unrecognized request argument supplied: response_format",
                                           "type": "invalid_request_error", "param": "response_format"}})
                return
            reply = fake._next_reply(body, index)
            if fake.delay or reply.delay:
                time.sleep(fake.delay + reply.delay)
            if reply.status != 200:
                error = reply.body if reply.body is not None else {
                    "error": {"message": f"scripted error {reply.status}", "type": "server_error"}}
                self._send(reply.status, error.encode() if isinstance(error, str) else error, reply.headers)
                return
            if body.get("stream"):
                self._stream(body, reply)
            else:
                self._send(200, _completion(body, reply), reply.headers)
            with fake._lock:
                fake.completed += 1
        except (BrokenPipeError, ConnectionResetError):
            return
        finally:
            with fake._lock:
                fake.in_flight -= 1


def _completion(body: dict[str, Any], reply: Reply) -> dict[str, Any]:
    content = reply.content or ""
    prompt_chars = sum(len(str(m.get("content", ""))) for m in body.get("messages", []))
    usage = reply.usage or {"prompt_tokens": max(1, prompt_chars // 4), "completion_tokens": max(1, len(content) // 4)}
    usage = {**usage, "total_tokens": usage["prompt_tokens"] + usage["completion_tokens"]}
    return {
        "id": f"chatcmpl-{request_seed(body)}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": body.get("model", "fake"),
        "choices": [{"index": 0, "message": {"role": "assistant", "content": content},
                     "finish_reason": reply.finish_reason, "logprobs": None}],
        "usage": usage,
    }


if __name__ == "__main__":  # serve on a fixed port by hand: python tests/fakellm.py --port 8123 --kinds
    import argparse

    parser = argparse.ArgumentParser(description="The fake OpenAI-compatible server, for trying commands by hand.")
    parser.add_argument("--port", type=int, default=8123)
    parser.add_argument("--kinds", action="store_true", help="also answer multi-turn, plain-answer and judge prompts")
    parser.add_argument("--lang", default="en", help="language of invented items: en or zh")
    options = parser.parse_args()
    fake = FakeLLM(kinds=options.kinds, lang=options.lang)
    server = ThreadingHTTPServer(("127.0.0.1", options.port), type("Handler", (_Handler,), {"server_fake": fake}))
    server.daemon_threads = True
    print(f"serving on http://127.0.0.1:{options.port}/v1 (Ctrl-C stops)", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        server.server_close()
