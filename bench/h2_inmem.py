"""surge's HTTP/2 server per request, in memory: no sockets, no h2load, just the server's CPU.

    python -m bench.h2_inmem                      # 20,000 GETs in batches of 16 streams
    python -m bench.h2_inmem --profile            # the same under cProfile (top 30 by tottime)
    python -m bench.h2_inmem --h1                 # HTTP/1.1 pipelined in the same batches
    python -m bench.h2_inmem --save-batches F     # encode the client's bytes to F and exit
    python -m bench.h2_inmem --load-batches F     # serve F's bytes, answers left unchecked

Saved batches make instruction counts (valgrind --tool=callgrind) count the server alone: the
client's encoding and the answers' decoding are pure-Python h2 and cost more than the server.

The client's bytes are encoded before the clock starts (one h2 client with windows opened wide,
so it never has to read the answers); the server protocol gets them through ``data_received``
in batches of ``--streams`` requests, like one h2load connection at ``-m16``, and the loop runs
until every stream is answered. The figure is process CPU per request. The answers are decoded
afterwards and checked (status and body of every stream).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import pickle
import pstats
import time
from typing import Any

import h2.config
import h2.connection
import h2.events
from h2.settings import SettingCodes

from bench.apps.app import build_app


class _Transport(asyncio.Transport):
    def __init__(self) -> None:
        super().__init__()
        self.out: list[bytes] = []
        self.closed = False

    def write(self, data: Any) -> None:
        self.out.append(bytes(data))

    def writelines(self, data: Any) -> None:
        for chunk in data:
            self.write(chunk)

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return ("127.0.0.1", 1) if name == "peername" else default

    def is_closing(self) -> bool:
        return self.closed

    def close(self) -> None:
        self.closed = True

    def abort(self) -> None:
        self.closed = True

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass

    def can_write_eof(self) -> bool:
        return True

    def write_eof(self) -> None:
        pass

    def set_protocol(self, protocol: Any) -> None:
        pass


def _h2_batches(path: str, total: int, per_batch: int) -> tuple[list[bytes], Any]:
    client = h2.connection.H2Connection(
        h2.config.H2Configuration(client_side=True, header_encoding=None)
    )
    client.local_settings = h2.settings.Settings(
        client=True, initial_values={SettingCodes.INITIAL_WINDOW_SIZE: 2**31 - 1}
    )
    client.initiate_connection()
    client.increment_flow_control_window(2**31 - 1 - 65535)
    first = client.data_to_send()
    headers = [
        (b":method", b"GET"),
        (b":path", path.encode()),
        (b":scheme", b"http"),
        (b":authority", b"127.0.0.1:8080"),
        (b"user-agent", b"h2load nghttp2/1.52.0"),
        (b"accept", b"*/*"),
    ]
    batches = []
    sid = 1
    for start in range(0, total, per_batch):
        for _ in range(min(per_batch, total - start)):
            client.send_headers(sid, headers, end_stream=True)
            sid += 2
        batches.append(client.data_to_send())
    batches[0] = first + batches[0]
    return batches, client


def _h1_batches(path: str, total: int, per_batch: int) -> list[bytes]:
    req = (
        f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nUser-Agent: h2load\r\nAccept: */*\r\n\r\n"
    ).encode()
    return [req * min(per_batch, total - s) for s in range(0, total, per_batch)]


async def _run(args: argparse.Namespace) -> None:
    from surge import web

    app = build_app(web)
    runner = web.AppRunner(app, access_log=None, handle_signals=False)
    await runner.setup()
    server = runner.server
    assert server is not None
    total, per = args.requests, args.streams
    client = None
    if args.load_batches:
        with open(args.load_batches, "rb") as file:
            total, batches = pickle.load(file)
    elif args.h1:
        batches = _h1_batches(args.path, total, per)
    else:
        batches, client = _h2_batches(args.path, total, per)
    if args.save_batches:
        with open(args.save_batches, "wb") as file:
            pickle.dump((total, batches), file)
        await runner.cleanup()
        return
    if args.h1:
        from surge.server.protocol.h1 import H1ServerProtocol

        proto: Any = H1ServerProtocol(server)
    else:
        from surge.server.protocol.h2 import H2ServerProtocol

        proto = H2ServerProtocol(server)
    transport = _Transport()
    proto.connection_made(transport)
    loop = asyncio.get_running_loop()
    sent = transport.out

    async def settle() -> None:
        # Let every started handler finish: a few loop turns with nothing left in flight.
        for _ in range(200):
            await asyncio.sleep(0)
            if args.h1:
                idle = proto._task is None or proto._task.done()
                if idle and not getattr(proto, "_pipeline", None):
                    return
            elif not proto._streams:
                return

    profiler = cProfile.Profile() if args.profile else None
    cpu0 = time.process_time()
    if profiler is not None:
        profiler.enable()
    for batch in batches:
        # From a loop callback, as a transport delivers it (not from inside this task).
        loop.call_soon(proto.data_received, batch)
        await settle()
    await asyncio.sleep(0)  # the last answers leave at the end of the loop iteration
    if profiler is not None:
        profiler.disable()
    cpu = time.process_time() - cpu0
    del loop
    # Check the answers.
    data = b"".join(sent)
    if args.load_batches:
        pass
    elif client is not None:
        ok = 0
        for event in client.receive_data(data):
            if isinstance(event, h2.events.StreamEnded):
                ok += 1
        assert ok == total, (ok, total)
    else:
        assert data.count(b"HTTP/1.1 200 OK") == total, data[:300]
    proto.connection_lost(None)
    await runner.cleanup()
    print(
        f"{'h1' if args.h1 else 'h2'} {args.path}: {total} requests, "
        f"{cpu / total * 1e6:.1f} µs CPU/request"
    )
    if profiler is not None:
        if args.dump:
            profiler.dump_stats(args.dump)
        pstats.Stats(profiler).sort_stats(args.sort).print_stats(args.top)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=20000)
    parser.add_argument("--streams", type=int, default=16)
    parser.add_argument("--path", default="/")
    parser.add_argument("--h1", action="store_true")
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--sort", default="tottime")
    parser.add_argument("--top", type=int, default=30)
    parser.add_argument("--dump", help="write the cProfile stats to this file")
    parser.add_argument("--save-batches", help="write the client's bytes to this file, exit")
    parser.add_argument("--load-batches", help="serve these saved bytes (no answer check)")
    parser.add_argument("--loop", choices=["asyncio", "uvloop"], default="uvloop")
    args = parser.parse_args()
    if args.loop == "uvloop":
        import uvloop

        uvloop.run(_run(args))
    else:
        asyncio.run(_run(args))


if __name__ == "__main__":
    main()
