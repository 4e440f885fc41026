"""HTTP/2 test helpers: a TLS server with a trustme certificate, a raw h2 peer, subprocesses."""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from collections.abc import AsyncIterator, Callable
from typing import Any

import h2.config
import h2.connection
import h2.events
import h2.exceptions
import trustme

from surge import web


@contextlib.asynccontextmanager
async def serve_tls(
    app: web.Application, ca_path: str, **kwargs: Any
) -> AsyncIterator[tuple[str, ssl.SSLContext]]:
    """Serve ``app`` over TLS on 127.0.0.1; yields the base URL and a client context.

    The CA certificate is written to ``ca_path`` (for curl's --cacert).
    """
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1", "localhost")
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    cert.configure_cert(server_ctx)
    ca.cert_pem.write_to_path(ca_path)
    client_ctx = ssl.create_default_context()
    ca.configure_trust(client_ctx)
    runner = web.AppRunner(app, access_log=None, **kwargs)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=server_ctx)
    await site.start()
    try:
        yield f"https://127.0.0.1:{site.port}", client_ctx
    finally:
        await runner.cleanup()


async def run(*cmd: str, timeout: float = 20.0) -> tuple[int, bytes, bytes]:
    """Run a command without blocking the loop the server runs on."""
    proc = await asyncio.create_subprocess_exec(
        *cmd, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    try:
        out, err = await asyncio.wait_for(proc.communicate(), timeout)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        raise
    assert proc.returncode is not None
    return proc.returncode, out, err


class RawH2:
    """An HTTP/2 client peer on a raw socket, free to misbehave (built on h2)."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        config = h2.config.H2Configuration(client_side=True, header_encoding=None)
        self.conn = h2.connection.H2Connection(config)
        self.events: list[h2.events.Event] = []
        self.closed = False

    @classmethod
    async def open(
        cls, port: int, *, ssl_context: ssl.SSLContext | None = None, preface: bool = True
    ) -> RawH2:
        reader, writer = await asyncio.open_connection(
            "127.0.0.1", port, ssl=ssl_context, server_hostname="127.0.0.1" if ssl_context else None
        )
        peer = cls(reader, writer)
        if preface:
            peer.conn.initiate_connection()
            peer.flush()
        return peer

    def flush(self) -> None:
        data = self.conn.data_to_send()
        if data:
            self.writer.write(data)

    def send_raw(self, data: bytes) -> None:
        self.writer.write(data)

    def request(self, path: str, method: str = "GET", *, end_stream: bool = True) -> int:
        sid = self.conn.get_next_available_stream_id()
        headers = [
            (b":method", method.encode()),
            (b":path", path.encode()),
            (b":scheme", b"http"),
            (b":authority", b"127.0.0.1"),
        ]
        self.conn.send_headers(sid, headers, end_stream=end_stream)
        return sid

    async def until(
        self, predicate: Callable[[h2.events.Event], bool], timeout: float = 5.0
    ) -> h2.events.Event | None:
        """Read until an event matches (returned) or the server closes (None)."""
        for event in self.events:
            if predicate(event):
                return event
        async with asyncio.timeout(timeout):
            while not self.closed:
                data = await self.reader.read(65536)
                if not data:
                    self.closed = True
                    break
                try:
                    new = self.conn.receive_data(data)
                except h2.exceptions.ProtocolError:
                    new = []
                self.flush()
                self.events.extend(new)
                for event in new:
                    if predicate(event):
                        return event
        return None

    async def response(self, sid: int, timeout: float = 5.0) -> tuple[int, bytes]:
        """Status and body of stream ``sid`` (reads until it ends)."""
        ended = await self.until(
            lambda e: (
                isinstance(e, h2.events.StreamEnded | h2.events.StreamReset) and e.stream_id == sid
            ),
            timeout,
        )
        assert isinstance(ended, h2.events.StreamEnded), ended
        status = 0
        body = b""
        for event in self.events:
            if getattr(event, "stream_id", None) != sid:
                continue
            if isinstance(event, h2.events.ResponseReceived):
                status = int(dict(event.headers)[b":status"])
            elif isinstance(event, h2.events.DataReceived):
                body += event.data
                self.conn.acknowledge_received_data(event.flow_controlled_length, sid)
        self.flush()
        return status, body

    def goaway(self) -> h2.events.ConnectionTerminated | None:
        for event in self.events:
            if isinstance(event, h2.events.ConnectionTerminated):
                return event
        return None

    def close(self) -> None:
        self.writer.close()


def parse_frames(data: bytes) -> list[Any]:
    """The complete frames in ``data`` (hyperframe objects), in order."""
    from hyperframe.frame import Frame

    frames = []
    while len(data) >= 9:
        frame, length = Frame.parse_frame_header(memoryview(data[:9]))
        if len(data) < 9 + length:
            break
        frame.parse_body(memoryview(data[9 : 9 + length]))
        frames.append(frame)
        data = data[9 + length :]
    return frames
