"""A small forward proxy for client tests, on raw asyncio sockets (independent of surge).

Absolute-form requests (``GET http://host:port/path``) are rewritten to origin form and piped
to the origin; ``CONNECT host:port`` opens a blind tunnel. Every request head it receives is
kept in ``heads``; ``require_auth`` makes it answer 407 without the right Proxy-Authorization.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from urllib.parse import urlsplit


class ForwardProxy:
    def __init__(self, require_auth: str | None = None) -> None:
        self.require_auth = require_auth
        self.heads: list[bytes] = []
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except (asyncio.IncompleteReadError, ConnectionError):
            writer.close()
            return
        self.heads.append(head)
        lines = head.decode("latin-1").split("\r\n")
        method, target, version = lines[0].split(" ")
        headers = {}
        for line in lines[1:]:
            if line:
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
        if (
            self.require_auth is not None
            and headers.get("proxy-authorization") != self.require_auth
        ):
            writer.write(
                b"HTTP/1.1 407 Proxy Authentication Required\r\n"
                b'Proxy-Authenticate: Basic realm="proxy"\r\nContent-Length: 4\r\n'
                b"Connection: close\r\n\r\ndeny"
            )
            await writer.drain()
            writer.close()
            return
        if method == "CONNECT":
            host, _, port = target.rpartition(":")
            up_reader, up_writer = await asyncio.open_connection(host, int(port))
            writer.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
            await writer.drain()
            await self._pipe_both(reader, writer, up_reader, up_writer)
            return
        parts = urlsplit(target)
        up_reader, up_writer = await asyncio.open_connection(parts.hostname, parts.port or 80)
        origin_target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        kept = [
            line
            for line in lines[1:]
            if line and not line.lower().startswith("proxy-authorization:")
        ]
        rewritten = f"{method} {origin_target} {version}\r\n" + "\r\n".join(kept) + "\r\n\r\n"
        up_writer.write(rewritten.encode("latin-1"))
        await self._pipe_both(reader, writer, up_reader, up_writer)

    async def _pipe_both(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        up_reader: asyncio.StreamReader,
        up_writer: asyncio.StreamWriter,
    ) -> None:
        await asyncio.gather(
            self._pipe(reader, up_writer), self._pipe(up_reader, writer), return_exceptions=True
        )

    @staticmethod
    async def _pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
        try:
            while data := await src.read(65536):
                dst.write(data)
                await dst.drain()
        finally:
            dst.close()


@contextlib.asynccontextmanager
async def forward_proxy(require_auth: str | None = None) -> AsyncIterator[ForwardProxy]:
    proxy = ForwardProxy(require_auth)
    server = await asyncio.start_server(proxy.handle, "127.0.0.1", 0)
    proxy.port = server.sockets[0].getsockname()[1]
    try:
        yield proxy
    finally:
        server.close()
