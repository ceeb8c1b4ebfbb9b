"""The lean HTTP/1.1 client against a raw socket server on 127.0.0.1 that sends exactly the bytes a test scripts.

Real endpoints split their bytes anywhere, compress, close idle keep-alive connections, answer
HTTP/1.0 or with a body that runs to the end of the connection; each case is sent here byte for
byte, and the same requests also go through `LLMClient` against tests/fakellm.py.
"""

from __future__ import annotations

import asyncio
import gzip
import json
import socket
import threading
import time

import pytest
from fakellm import FakeLLM

from datacraft.llm import LLMClient, RequestFailed, resolve_llm_config
from datacraft.llm.http import HTTPClient, ProtocolError, error_message

MESSAGES = [{"role": "user", "content": "Say hello."}]


class RawServer:
    """Accepts connections; answers request number i (over all connections) with `reply(i, body)`.

    `reply` returns (pieces of bytes sent one write at a time, close the connection afterwards).
    """

    def __init__(self, reply, pause: float = 0.002, tls=None):
        self.reply = reply
        self.tls = tls  # an ssl.SSLContext: speak TLS on every connection
        self.pause = pause  # seconds between two writes
        self.requests: list[tuple[str, dict[str, str], bytes]] = []
        self.connections = 0
        self._sock = socket.socket()
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(64)
        self.url = f"http://127.0.0.1:{self._sock.getsockname()[1]}/v1"
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        buffer = b""
        if self.tls is not None:
            try:
                conn = self.tls.wrap_socket(conn, server_side=True)
            except OSError:  # the client refused the certificate
                conn.close()
                return
        with conn:
            while True:
                while b"\r\n\r\n" not in buffer:
                    data = conn.recv(65536)
                    if not data:
                        return
                    buffer += data
                head, buffer = buffer.split(b"\r\n\r\n", 1)
                line, *fields = head.decode("latin-1").split("\r\n")
                headers = {k.strip().lower(): v.strip() for k, v in (f.split(":", 1) for f in fields)}
                length = int(headers.get("content-length", 0))
                while len(buffer) < length:
                    buffer += conn.recv(65536)
                body, buffer = buffer[:length], buffer[length:]
                index = len(self.requests)
                self.requests.append((line, headers, body))
                pieces, close = self.reply(index, json.loads(body))
                for piece in pieces:
                    conn.sendall(piece)
                    time.sleep(self.pause)
                if close:
                    return

    def close(self) -> None:
        self._sock.close()


def sse(text: str, model: str = "raw-model") -> bytes:
    events = [{"model": model, "choices": [{"index": 0, "delta": {"content": text[i:i + 3]}, "finish_reason": None}]}
              for i in range(0, len(text), 3)]
    events.append({"model": model, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
    events.append({"model": model, "choices": [], "usage": {"prompt_tokens": 5, "completion_tokens": 2}})
    return b"".join(b"data: " + json.dumps(e).encode() + b"\r\n\r\n" for e in events) + b"data: [DONE]\r\n\r\n"


def chunked(body: bytes, size: int) -> bytes:
    out = b"".join(b"%x\r\n%s\r\n" % (len(body[i:i + size]), body[i:i + size]) for i in range(0, len(body), size))
    return out + b"0\r\n\r\n"


def split(data: bytes, size: int) -> list[bytes]:
    return [data[i:i + size] for i in range(0, len(data), size)]


def client_for(url: str, **settings) -> LLMClient:
    settings = {"max_retries": 2, "backoff_base": 0.01, "timeout": 5, **settings}
    return LLMClient(resolve_llm_config(settings, base_url=url, model="m", env={}), key="sk-local-key-1234567")


def ask(client: LLMClient, times: int = 1):
    async def go():
        async with client:
            return [await client.complete(MESSAGES, seed=i) for i in range(times)]
    return asyncio.run(go())


@pytest.mark.parametrize("piece", [1, 7, 64, 100000])
def test_an_event_stream_split_anywhere_reads_whole(piece):
    head = b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n"
    server = RawServer(lambda i, body: (split(head + chunked(sse('{"items": ["héllo wörld"]}'), 11), piece), False),
                       pause=0.0002 if piece == 1 else 0.002)
    try:
        client = client_for(server.url)
        reply, = ask(client)
        assert (reply.text, reply.finish_reason, reply.prompt_tokens, reply.completion_tokens, reply.model) == (
            '{"items": ["héllo wörld"]}', "stop", 5, 2, "raw-model")
        line, headers, body = server.requests[0]
        assert line == "POST /v1/chat/completions HTTP/1.1"
        assert headers["authorization"] == "Bearer sk-local-key-1234567"
        assert headers["content-type"] == "application/json" and headers["accept"] == "text/event-stream"
        assert json.loads(body)["stream"] is True and json.loads(body)["messages"] == MESSAGES
    finally:
        server.close()


def test_keep_alive_connections_are_reused_and_a_closed_idle_one_is_replaced_without_a_retry():
    reply = (b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n"
             + chunked(sse("ok"), 50))
    # the server closes every second connection right after its reply, as an idle timeout would
    server = RawServer(lambda i, body: ([reply], i % 2 == 1))
    try:
        client = client_for(server.url)
        replies = ask(client, times=6)
        assert [r.text for r in replies] == ["ok"] * 6
        assert server.connections == 3  # requests 0-1, 2-3, 4-5 share one each
        assert client.usage.retries == 0 and client.usage.connection_errors == 0
    finally:
        server.close()


def test_connection_close_http_1_0_read_to_end_gzip_and_plain_json_replies():
    payload = json.dumps({"model": "x", "choices": [{"message": {"content": "plain"}, "finish_reason": "length"}],
                          "usage": {"prompt_tokens": 3, "completion_tokens": 4}}).encode()
    packed = gzip.compress(payload)
    replies = [
        # a server that ignores "stream": one JSON body, Connection: close
        ([b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n"
          b"Content-Length: %d\r\n\r\n%s" % (len(payload), payload)], True),
        # HTTP/1.0, no length: the body runs to the end of the connection
        ([b"HTTP/1.0 200 OK\r\nContent-Type: application/json\r\n\r\n", payload], True),
        # gzip, chunked
        (split(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Encoding: gzip\r\n"
               b"Transfer-Encoding: chunked\r\n\r\n" + chunked(packed, 9), 5), False),
        # an interim 100 Continue before the real reply
        ([b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
          b"Content-Length: %d\r\n\r\n%s" % (len(payload), payload)], False),
    ]
    server = RawServer(lambda i, body: replies[i])
    try:
        client = client_for(server.url)
        got = ask(client, times=4)
        assert [(r.text, r.finish_reason, r.prompt_tokens, r.completion_tokens) for r in got] == [
            ("plain", "length", 3, 4)] * 4
        assert server.connections == 3 and client.usage.retries == 0
    finally:
        server.close()


def test_a_reply_that_is_not_http_or_ends_early_is_a_connection_error_and_retried():
    good = b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n" + chunked(sse("ok"), 50)
    replies = [([b"SSH-2.0-OpenSSH_9.6\r\n\r\n"], True),
               ([good[:len(good) // 2]], True),  # cut off in the middle of the stream
               ([good], False)]
    server = RawServer(lambda i, body: replies[i])
    try:
        client = client_for(server.url)
        reply, = ask(client)
        assert reply.text == "ok"
        assert client.usage.connection_errors == 2 and client.usage.retries == 2
    finally:
        server.close()


def test_error_statuses_are_worded_as_the_openai_sdk_words_them():
    body = json.dumps({"error": {"message": "model not found", "type": "not_found", "param": "model"}}).encode()
    assert error_message(404, body)[:2] == ("Error code: 404 - model not found", "model")
    assert error_message(502, b"<html>Bad gateway</html>")[:2] == ("Error code: 502", None)
    reply = b"HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s"
    refusal = json.dumps({"error": {"message": "temperature is too high", "param": "temperature"}}).encode()
    server = RawServer(lambda i, body: ([reply % (len(refusal), refusal)], False))
    try:
        with pytest.raises(RequestFailed, match="request_refused: HTTP 400: Error code: 400 - temperature is too high"):
            ask(client_for(server.url))
    finally:
        server.close()


def test_silence_times_out_but_a_slow_steady_stream_does_not():
    head = b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n"

    async def go(pieces, timeout):
        server = RawServer(lambda i, body: (pieces, False), pause=0.05)
        http = HTTPClient(server.url, {}, timeout=timeout, connect_timeout=timeout)
        try:
            response = await http.post("/chat/completions", b"{}")
            return b"".join([line async for line in response.lines()])
        finally:
            await http.aclose()
            server.close()

    steady = [head] + split(chunked(sse("a" * 12), 40), 40)  # 0.05 s apart: about 0.6 s in all
    assert b"[DONE]" in asyncio.run(go(steady, timeout=0.15))
    with pytest.raises(asyncio.TimeoutError):
        asyncio.run(go([head], timeout=0.2))  # headers, then nothing


def test_a_proxy_in_the_environment_sends_requests_through_the_sdk_and_the_proxy(monkeypatch):
    with FakeLLM() as proxy:  # answers the proxied `POST http://host/v1/chat/completions` itself
        monkeypatch.setenv("HTTP_PROXY", proxy.url.removesuffix("/v1"))
        monkeypatch.delenv("NO_PROXY", raising=False)
        monkeypatch.delenv("no_proxy", raising=False)
        client = client_for("http://llm.example.invalid/v1")
        assert client._http is None  # the openai SDK, which honours proxies
        reply, = ask(client)
        assert reply.text and len(proxy.requests) == 1 and proxy.requests[0]["model"] == "m"


def test_through_fakellm_at_concurrency_the_replies_match_their_requests():
    with FakeLLM(delay=0.02) as server:
        client = client_for(server.url, concurrency=16)

        async def go():
            async with client:
                return await asyncio.gather(*(client.complete(MESSAGES, seed=i, json_mode=True) for i in range(48)))
        replies = asyncio.run(go())
        from fakellm import invent_items
        assert [json.loads(r.text)["items"] for r in replies] == [invent_items(i, 5) for i in range(48)]
        assert server.streamed == 48 and server.max_in_flight > 1


def test_an_address_that_is_not_http_is_refused():
    with pytest.raises(ValueError, match="not an http"):
        HTTPClient("ftp://example.com/v1", {}, timeout=1, connect_timeout=1)
    assert issubclass(ProtocolError, ConnectionError)


def _self_signed(tmp_path):
    """A certificate for localhost / 127.0.0.1 and its key, written as PEM files."""
    import datetime
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost"),
                                                        x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


def test_https_with_certificate_checks_and_keep_alive(tmp_path, monkeypatch):
    import ssl

    cert, key = _self_signed(tmp_path)
    reply = (b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n"
             + chunked(sse("secure"), 30))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server = RawServer(lambda i, body: ([reply], False), tls=context)
    url = server.url.replace("http://127.0.0.1", "https://localhost")
    try:
        with pytest.raises(RequestFailed, match="connection_error.*CERTIFICATE_VERIFY_FAILED"):
            ask(client_for(url, max_retries=0))  # certifi's roots do not know this certificate
        monkeypatch.setenv("SSL_CERT_FILE", str(cert))
        client = client_for(url)
        assert [r.text for r in ask(client, times=3)] == ["secure"] * 3
        assert client.usage.retries == 0 and server.connections == 2  # the refused one, then one for all three
    finally:
        server.close()


def test_a_204_has_no_body_and_its_connection_is_reused():
    replies = [[b"HTTP/1.1 204 No Content\r\nTransfer-Encoding: chunked\r\n\r\n"],
               [b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"]]
    server = RawServer(lambda i, body: (replies[i], False))

    async def go():
        http = HTTPClient(server.url, {}, timeout=2, connect_timeout=2)
        try:
            first = await http.post("/chat/completions", b"{}")
            empty = (first.status, await first.read())
            second = await http.post("/chat/completions", b"{}")
            return empty, (second.status, await second.read())
        finally:
            await http.aclose()

    try:
        assert asyncio.run(go()) == ((204, b""), (200, b"ok"))
        assert server.connections == 1
    finally:
        server.close()
