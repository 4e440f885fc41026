"""WebSocket over HTTP/2 (RFC 8441): a raw h2 client (h2 + wsproto's frame layer) sends an
extended CONNECT and WebSocket frames to the same ``web.WebSocketResponse`` handler that serves
HTTP/1.1 WebSockets."""

from __future__ import annotations

import asyncio
from typing import Any

import h2.events
import h2.settings
import websockets
from hyperframe.frame import DataFrame
from wsproto.connection import Connection, ConnectionType
from wsproto.events import BytesMessage, CloseConnection, Event, Message, TextMessage

from surge import WSMsgType, web
from surge.http.h2.settings import H2Limits
from tests.h2.helpers import RawH2, parse_frames
from tests.helpers import serve


def _app() -> web.Application:
    app = web.Application()

    async def ws_handler(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(protocols=("chat",))
        await ws.prepare(request)
        async for msg in ws:
            if msg.type == WSMsgType.TEXT:
                if msg.data == "close":
                    await ws.close(code=4001, message=b"bye")
                else:
                    await ws.send_str(f"echo:{msg.data}:{request.version[0]}")
            elif msg.type == WSMsgType.BINARY:
                await ws.send_bytes(msg.data)
        request.app["closed"].append(ws.close_code)
        return ws

    async def plain(request: web.Request) -> web.Response:
        return web.Response(text="plain")

    async def late_reader(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        await request.app["go"].wait()  # messages pile up: reading pauses, data is held
        got = [await ws.receive_str() for _ in range(request.app["count"])]
        await ws.send_str(f"{len(got)} {got[0]} {got[-1]}")
        await ws.close()
        return ws

    app["closed"] = []
    app["count"] = 0
    app["go"] = asyncio.Event()
    app.router.add_get("/ws", ws_handler)
    app.router.add_get("/late", late_reader)
    app.router.add_get("/plain", plain)
    return app


def _port(url: str) -> int:
    return int(url.rsplit(":", 1)[1])


class H2WebSocket:
    """One WebSocket on a stream of a raw HTTP/2 connection."""

    def __init__(self, peer: RawH2, sid: int) -> None:
        self.peer = peer
        self.sid = sid
        self.ws = Connection(ConnectionType.CLIENT)
        self.handled: set[int] = set()  # ids of peer.events already turned into WebSocket events
        self.pending: list[Event] = []

    @classmethod
    async def open(
        cls, peer: RawH2, path: str = "/ws", extra: list[tuple[bytes, bytes]] | None = None
    ) -> tuple[H2WebSocket, dict[bytes, bytes]]:
        settings = await peer.until(lambda e: isinstance(e, h2.events.RemoteSettingsChanged))
        assert settings is not None
        sid = peer.conn.get_next_available_stream_id()
        headers = [
            (b":method", b"CONNECT"),
            (b":protocol", b"websocket"),
            (b":scheme", b"http"),
            (b":path", path.encode()),
            (b":authority", b"127.0.0.1"),
            (b"sec-websocket-version", b"13"),
            *(extra or []),
        ]
        peer.conn.send_headers(sid, headers)
        peer.flush()
        answer = await peer.until(
            lambda e: (
                isinstance(e, h2.events.ResponseReceived | h2.events.StreamReset)
                and e.stream_id == sid
            )
        )
        assert isinstance(answer, h2.events.ResponseReceived), answer
        return cls(peer, sid), dict(answer.headers)

    def send(self, event: Event) -> None:
        data = self.ws.send(event)
        conn = self.peer.conn
        assert len(data) <= conn.local_flow_control_window(self.sid)  # the server's is 1 MiB
        step = conn.max_outbound_frame_size
        for start in range(0, len(data), step):
            conn.send_data(self.sid, data[start : start + step])
        self.peer.flush()

    async def receive(self) -> Event | None:
        """The next WebSocket event; None when the stream ended without one."""
        while not self.pending:
            done = await self.peer.until(self._progress)
            self._drain_events()
            if not self.pending and (done is None or self._ended()):
                return None
        return self.pending.pop(0)

    def _progress(self, event: h2.events.Event) -> bool:
        # ``until`` looks at earlier events first: each counts once.
        if getattr(event, "stream_id", None) != self.sid or id(event) in self.handled:
            return False
        self.handled.add(id(event))
        if isinstance(event, h2.events.DataReceived):
            # Open the windows as data arrives: large messages flow both ways.
            self.peer.conn.acknowledge_received_data(event.flow_controlled_length, self.sid)
            self.peer.flush()
            self.ws.receive_data(event.data)
        return True

    def _drain_events(self) -> None:
        self.pending.extend(self.ws.events())

    def _ended(self) -> bool:
        return any(
            isinstance(e, h2.events.StreamEnded | h2.events.StreamReset)
            and getattr(e, "stream_id", None) == self.sid
            for e in self.peer.events
        )

    async def stream_end(self) -> h2.events.Event | None:
        return await self.peer.until(
            lambda e: (
                isinstance(e, h2.events.StreamEnded | h2.events.StreamReset)
                and getattr(e, "stream_id", None) == self.sid
            )
        )


async def _message(ws: H2WebSocket) -> Any:
    """The next whole message (its frames joined), or the next other event."""
    event = await ws.receive()
    if not isinstance(event, Message):
        return event
    parts = [event.data]
    while not event.message_finished:
        event = await ws.receive()
        assert isinstance(event, Message)
        parts.append(event.data)
    if isinstance(event, TextMessage):
        return TextMessage(data="".join(parts))  # type: ignore[arg-type]
    return BytesMessage(data=b"".join(parts))  # type: ignore[arg-type]


async def test_settings_advertise_extended_connect() -> None:
    async with serve(_app()) as url:
        peer = await RawH2.open(_port(url))
        try:
            event = await peer.until(lambda e: isinstance(e, h2.events.RemoteSettingsChanged))
        finally:
            peer.close()
    assert isinstance(event, h2.events.RemoteSettingsChanged)
    setting = event.changed_settings[h2.settings.SettingCodes.ENABLE_CONNECT_PROTOCOL]
    assert setting.new_value == 1


async def test_echo_and_client_close_over_h2() -> None:
    app = _app()
    async with serve(app) as url:
        peer = await RawH2.open(_port(url))
        try:
            extra = [(b"sec-websocket-protocol", b"other, chat")]
            ws, headers = await H2WebSocket.open(peer, extra=extra)
            assert headers[b":status"] == b"200"
            assert headers[b"sec-websocket-protocol"] == b"chat"
            assert b"sec-websocket-accept" not in headers and b"upgrade" not in headers
            ws.send(TextMessage("hi"))
            reply = await _message(ws)
            assert isinstance(reply, TextMessage) and reply.data == "echo:hi:2"
            big = bytes(range(256)) * 1200  # 300 KiB: more than either side's initial window
            ws.send(BytesMessage(big))
            reply = await _message(ws)
            assert isinstance(reply, BytesMessage) and bytes(reply.data) == big
            ws.send(CloseConnection(code=1000, reason="done"))
            closing = await ws.receive()
            assert isinstance(closing, CloseConnection) and closing.code == 1000
            assert isinstance(await ws.stream_end(), h2.events.StreamEnded)
            # The connection carries on: another stream is served as usual.
            sid = peer.request("/plain")
            peer.flush()
            assert await peer.response(sid) == (200, b"plain")
        finally:
            peer.close()
    assert app["closed"] == [1000]


async def test_a_late_reader_gets_every_message_after_reading_paused() -> None:
    app = _app()
    app["count"] = count = 300  # past the 64 queued messages at which reading pauses
    async with serve(app) as url:
        peer = await RawH2.open(_port(url))
        try:
            ws, _ = await H2WebSocket.open(peer, "/late")
            for i in range(count):
                ws.send(TextMessage(f"m{i}" + "." * 1000))
            await asyncio.sleep(0.05)
            app["go"].set()
            reply = await _message(ws)
        finally:
            peer.close()
    assert isinstance(reply, TextMessage)
    assert reply.data == f"{count} m0{'.' * 1000} m{count - 1}{'.' * 1000}"


async def test_server_close_code_over_h2() -> None:
    app = _app()
    async with serve(app) as url:
        peer = await RawH2.open(_port(url))
        try:
            ws, _ = await H2WebSocket.open(peer)
            ws.send(TextMessage("close"))
            closing = await ws.receive()
            assert isinstance(closing, CloseConnection)
            assert (closing.code, closing.reason) == (4001, "bye")
            ws.send(closing.response())
            assert await ws.stream_end() is not None
        finally:
            peer.close()
    assert app["closed"] == [4001]


async def test_two_websockets_on_one_connection_and_one_on_http11() -> None:
    async with serve(_app()) as url:
        peer = await RawH2.open(_port(url))
        try:
            first, _ = await H2WebSocket.open(peer)
            second, _ = await H2WebSocket.open(peer)
            assert first.sid != second.sid
            async with websockets.connect(url.replace("http", "ws") + "/ws") as classic:
                await classic.send("h1")
                assert await classic.recv() == "echo:h1:1"
            second.send(TextMessage("b"))
            first.send(TextMessage("a"))
            reply_b = await _message(second)
            reply_a = await _message(first)
            assert (reply_a.data, reply_b.data) == ("echo:a:2", "echo:b:2")
        finally:
            peer.close()


async def test_plain_get_to_a_websocket_handler_over_h2_is_400() -> None:
    async with serve(_app()) as url:
        peer = await RawH2.open(_port(url))
        try:
            sid = peer.request("/ws")
            peer.flush()
            status, _ = await peer.response(sid)
        finally:
            peer.close()
    assert status == 400


async def test_extended_connect_refused_when_turned_off() -> None:
    async with serve(_app(), http2_limits=H2Limits(websocket=False)) as url:
        peer = await RawH2.open(_port(url))
        try:
            event = await peer.until(lambda e: isinstance(e, h2.events.RemoteSettingsChanged))
            assert isinstance(event, h2.events.RemoteSettingsChanged)
            code = h2.settings.SettingCodes.ENABLE_CONNECT_PROTOCOL
            assert code not in event.changed_settings or (
                event.changed_settings[code].new_value == 0
            )
            sid = peer.conn.get_next_available_stream_id()
            peer.conn.send_headers(
                sid,
                [
                    (b":method", b"CONNECT"),
                    (b":protocol", b"websocket"),
                    (b":scheme", b"http"),
                    (b":path", b"/ws"),
                    (b":authority", b"127.0.0.1"),
                    (b"sec-websocket-version", b"13"),
                ],
            )
            peer.flush()
            reset = await peer.until(
                lambda e: isinstance(e, h2.events.StreamReset) and e.stream_id == sid
            )
        finally:
            peer.close()
    assert isinstance(reset, h2.events.StreamReset)


async def test_shutdown_closes_an_h2_websocket_with_1001() -> None:
    app = _app()
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    peer = await RawH2.open(site.port)
    try:
        ws, _ = await H2WebSocket.open(peer)
        ws.send(TextMessage("x"))
        assert (await _message(ws)).data == "echo:x:2"
        cleanup = asyncio.create_task(runner.cleanup())
        # Read raw frames: h2's client refuses DATA after a GOAWAY, which the server may send
        # first (open streams still finish after it).
        received = b""
        closing: list[CloseConnection] = []
        fed = 0
        async with asyncio.timeout(5):
            while chunk := await peer.reader.read(65536):
                received += chunk
                if closing:
                    continue
                frames = parse_frames(received)
                for frame in frames[fed:]:
                    if isinstance(frame, DataFrame) and frame.stream_id == ws.sid:
                        ws.ws.receive_data(bytes(frame.data))
                fed = len(frames)
                closing = [e for e in ws.ws.events() if isinstance(e, CloseConnection)]
                if closing:  # answer it, in a frame written by hand (see above)
                    reply = DataFrame(ws.sid, ws.ws.send(closing[0].response()))
                    peer.send_raw(reply.serialize())
        await cleanup
    finally:
        peer.close()
    assert [c.code for c in closing] == [1001]
    assert app["closed"] == [1001]  # the handler saw the close handshake complete
