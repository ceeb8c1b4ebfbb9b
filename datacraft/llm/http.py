"""A small HTTP/1.1 client on asyncio for one job: POST a JSON body to an endpoint, read the reply as it comes.

Why not httpx through `openai`: with 32-64 requests in flight, each request costs about 2.5 ms of
CPU there (the SDK's parameter transformation, anyio's stream layers, a connection pool that
looks at every connection on each request; httpx 0.28's pool alone costs 10 ms at 64), which at
200 ms latency is most of a core. This client does what a chat endpoint needs and no more:
keep-alive connections pooled per endpoint, `Content-Length`, chunked or read-to-close bodies,
gzip/deflate, TLS (certifi's roots unless SSL_CERT_FILE/SSL_CERT_DIR say otherwise), and an
inactivity timeout (silence, not total time). Proxies are not its job: with a proxy configured,
`LLMClient` uses the openai SDK instead.
"""

from __future__ import annotations

import asyncio
import os
import ssl
import urllib.request
import zlib
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlsplit

MAX_HEAD = 64 * 1024  # bytes of status line and headers before the reply counts as malformed
MAX_IDLE = 512  # idle keep-alive connections kept per client


class ProtocolError(ConnectionError):
    """The server's reply is not HTTP/1.1, or the connection ended in the middle of it."""


class _Stale(ConnectionError):
    """A reused keep-alive connection was closed by the server before it answered."""


def uses_proxy(url: str) -> bool:
    """True when the environment routes `url` through a proxy (HTTP(S)_PROXY, ALL_PROXY, minus NO_PROXY)."""
    parts = urlsplit(url)
    proxies = urllib.request.getproxies()
    if not (proxies.get(parts.scheme) or proxies.get("all")):
        return False
    return not urllib.request.proxy_bypass(parts.hostname or "")


def _ssl_context() -> ssl.SSLContext:
    if os.environ.get("SSL_CERT_FILE") or os.environ.get("SSL_CERT_DIR"):
        return ssl.create_default_context()  # OpenSSL reads those variables itself
    try:
        import certifi
    except ImportError:
        return ssl.create_default_context()
    return ssl.create_default_context(cafile=certifi.where())


def _expire(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_exception(asyncio.TimeoutError())


class _Connection(asyncio.Protocol):
    """One TCP (or TLS) connection: received bytes land in `buffer`; `more()` waits for the next ones."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.closed = False
        self._waiter: asyncio.Future[None] | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        self._wake()

    def eof_received(self) -> bool:
        self.closed = True
        self._wake()
        return False  # let the transport close

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self._wake()

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    async def more(self, timeout: float) -> None:
        """Wait for more bytes or the end of the connection; asyncio.TimeoutError after `timeout` s of silence."""
        if self.closed:
            raise ProtocolError("the server closed the connection in the middle of a reply")
        loop = asyncio.get_running_loop()
        self._waiter = waiter = loop.create_future()
        timer = loop.call_later(timeout, _expire, waiter)
        try:
            await waiter
        finally:
            timer.cancel()
            self._waiter = None

    async def line(self, timeout: float) -> bytes:
        """The next CRLF-terminated line, without its ending."""
        while True:
            end = self.buffer.find(b"\r\n")
            if end >= 0:
                line = bytes(self.buffer[:end])
                del self.buffer[:end + 2]
                return line
            if len(self.buffer) > MAX_HEAD:
                raise ProtocolError("a line of the reply is too long")
            await self.more(timeout)

    def close(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.close()


class Response:
    """A reply whose body is read as it arrives: `async for chunk in response.body()`, or `await response.read()`."""

    def __init__(self, client: HTTPClient, conn: _Connection, status: int, headers: dict[str, str]):
        self.status = status
        self.headers = headers
        self._client = client
        self._conn: _Connection | None = conn
        encoding = headers.get("content-encoding", "").strip().lower()
        self._inflate = (zlib.decompressobj(16 + zlib.MAX_WBITS) if encoding == "gzip" else
                         zlib.decompressobj() if encoding == "deflate" else None)

    async def body(self) -> AsyncIterator[bytes]:
        """The body's bytes as they arrive; the connection goes back to the pool once all are read."""
        conn = self._conn
        assert conn is not None, "a body is read once"
        timeout = self._client.timeout
        headers = self.headers
        reusable = "close" not in headers.get("connection", "").lower()
        if self.status in (204, 304):  # never a body, whatever the headers say
            pass
        elif "chunked" in headers.get("transfer-encoding", "").lower():
            while True:
                size_line = await conn.line(timeout)
                try:
                    size = int(size_line.split(b";", 1)[0].strip(), 16)
                except ValueError:
                    raise ProtocolError(f"bad chunk size {size_line[:40]!r}") from None
                if size == 0:
                    while await conn.line(timeout):  # trailers, up to the empty line
                        pass
                    break
                async for data in self._exactly(conn, size, timeout):
                    yield data
                if await conn.line(timeout):
                    raise ProtocolError("a chunk is longer than its size says")
        elif "content-length" in headers:
            try:
                length = int(headers["content-length"])
            except ValueError:
                raise ProtocolError(f"bad Content-Length {headers['content-length'][:40]!r}") from None
            async for data in self._exactly(conn, length, timeout):
                yield data
        else:  # the body runs until the server closes the connection
            reusable = False
            while True:
                if conn.buffer:
                    data = bytes(conn.buffer)
                    conn.buffer.clear()
                    yield self._decode(data)
                if conn.closed:
                    break
                await conn.more(timeout)
        if self._inflate is not None:
            tail = self._inflate.flush()
            if tail:
                yield tail
        self._conn = None
        self._client._release(conn, reusable and not conn.buffer)

    async def _exactly(self, conn: _Connection, length: int, timeout: float) -> AsyncIterator[bytes]:
        while length > 0:
            if not conn.buffer:
                await conn.more(timeout)
                continue
            data = bytes(conn.buffer[:length])
            del conn.buffer[:len(data)]
            length -= len(data)
            yield self._decode(data)

    def _decode(self, data: bytes) -> bytes:
        return data if self._inflate is None else self._inflate.decompress(data)

    async def read(self) -> bytes:
        """The whole body."""
        return b"".join([data async for data in self.body()])

    async def lines(self) -> AsyncIterator[bytes]:
        """The body as lines (LF or CRLF endings stripped), e.g. the `data: ...` lines of an event stream."""
        pending = b""
        async for data in self.body():
            pending += data
            if b"\n" not in data:
                continue
            *complete, pending = pending.split(b"\n")
            for line in complete:
                yield line[:-1] if line.endswith(b"\r") else line
        if pending:
            yield pending

    def close(self) -> None:
        """Drop the connection unless the body was read to its end (then it is back in the pool already)."""
        if self._conn is not None:
            self._conn.close()
            self._conn = None


class HTTPClient:
    """`response = await http.post("/chat/completions", body)`: keep-alive connections to one endpoint."""

    def __init__(self, base_url: str, headers: dict[str, str], timeout: float, connect_timeout: float):
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"not an http(s) address: {base_url}")
        self.host = parts.hostname
        self.port = parts.port or (443 if parts.scheme == "https" else 80)
        self.timeout = timeout
        self.connect_timeout = connect_timeout
        self._ssl = _ssl_context() if parts.scheme == "https" else None
        self._prefix = parts.path.rstrip("/")
        self._query = f"?{parts.query}" if parts.query else ""
        host = f"[{self.host}]" if ":" in self.host else self.host
        default_port = self.port == (443 if parts.scheme == "https" else 80)
        fields = {"Host": host if default_port else f"{host}:{self.port}", **headers}
        self._fields = "".join(f"{name}: {value}\r\n" for name, value in fields.items())
        self._idle: list[_Connection] = []

    async def post(self, path: str, body: bytes, accept: str = "application/json") -> Response:
        """Send `body` (JSON) and read the status line and headers; the body is then read from the Response."""
        head = (f"POST {self._prefix}{path}{self._query} HTTP/1.1\r\n{self._fields}Accept: {accept}\r\n"
                f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n").encode("latin-1")
        while True:
            conn, reused = await self._acquire()
            try:
                assert conn.transport is not None
                conn.transport.write(head + body)
                status, headers = await self._head(conn)
            except _Stale:
                conn.close()
                if reused:
                    continue  # the server had closed it while idle: nothing was answered, ask on a new one
                raise ProtocolError("the server closed the connection without replying") from None
            except BaseException:
                conn.close()
                raise
            return Response(self, conn, status, headers)

    async def _head(self, conn: _Connection) -> tuple[int, dict[str, str]]:
        while True:
            end = conn.buffer.find(b"\r\n\r\n")
            while end < 0:
                if conn.closed:
                    if not conn.buffer:
                        raise _Stale()
                    raise ProtocolError("the server closed the connection in the middle of a reply")
                if len(conn.buffer) > MAX_HEAD:
                    raise ProtocolError("the reply's headers are too long")
                await conn.more(self.timeout)
                end = conn.buffer.find(b"\r\n\r\n")
            lines = bytes(conn.buffer[:end]).decode("latin-1").split("\r\n")
            del conn.buffer[:end + 4]
            version, _, rest = lines[0].partition(" ")
            code = rest[:3]
            if not version.startswith("HTTP/1.") or not code.isdigit():
                raise ProtocolError(f"not an HTTP/1.1 reply: {lines[0][:60]!r}")
            status = int(code)
            if 100 <= status < 200:  # an interim reply (100 Continue): the real one follows
                continue
            headers: dict[str, str] = {}
            for line in lines[1:]:
                name, _, value = line.partition(":")
                name = name.strip().lower()
                headers[name] = f"{headers[name]}, {value.strip()}" if name in headers else value.strip()
            if version == "HTTP/1.0" and "keep-alive" not in headers.get("connection", "").lower():
                headers["connection"] = "close"
            return status, headers

    async def _acquire(self) -> tuple[_Connection, bool]:
        while self._idle:
            conn = self._idle.pop()
            if conn.closed or conn.buffer or conn.transport is None or conn.transport.is_closing():
                conn.close()
                continue
            return conn, True
        loop = asyncio.get_running_loop()
        _, conn = await asyncio.wait_for(loop.create_connection(
            _Connection, self.host, self.port, ssl=self._ssl,
            server_hostname=self.host if self._ssl is not None else None), self.connect_timeout)
        return conn, False

    def _release(self, conn: _Connection, reusable: bool) -> None:
        if reusable and not conn.closed and len(self._idle) < MAX_IDLE:
            self._idle.append(conn)
        else:
            conn.close()

    async def aclose(self) -> None:
        """Close the idle connections (those in use close when their reply ends)."""
        idle, self._idle = self._idle, []
        for conn in idle:
            conn.close()
        await asyncio.sleep(0)  # let the transports finish closing

    def __repr__(self) -> str:
        return f"HTTPClient({self.host}:{self.port})"


def error_message(status: int, body: bytes) -> tuple[str, str | None, Any]:
    """(message, param, parsed body) of an error reply, worded as the openai SDK words it.

    >>> error_message(400, b'{"error": {"message": "bad seed", "param": "seed"}}')[:2]
    ('Error code: 400 - bad seed', 'seed')
    """
    import json

    message = f"Error code: {status}"
    text = body.decode("utf-8", "replace").strip()
    try:
        parsed: Any = json.loads(text)
    except ValueError:
        return message, None, text
    error = parsed.get("error", parsed) if isinstance(parsed, dict) else None
    if isinstance(error, dict):
        if isinstance(error.get("message"), str) and error["message"]:
            message += f" - {error['message']}"
        param = error.get("param")
        return message, str(param) if param is not None else None, parsed
    return message, None, parsed
