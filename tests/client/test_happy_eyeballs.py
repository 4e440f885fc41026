"""Happy eyeballs: address interleaving (RFC 8305) and falling through to an address that
answers, staggered or one by one."""

from __future__ import annotations

import socket
from typing import Any

import pytest

import surge
from surge.client.happy_eyeballs import interleave_addresses
from surge.client.resolver import ResolveResult
from tests.client.servers import raw_server, read_request, reply


def _addr(host: str, family: int = socket.AF_INET, port: int = 80) -> ResolveResult:
    return ResolveResult(hostname="h", host=host, port=port, family=family, proto=0, flags=0)


def test_interleave_alternates_families() -> None:
    v6 = [_addr(f"::{i}", socket.AF_INET6) for i in range(1, 4)]
    v4 = [_addr(f"10.0.0.{i}") for i in range(1, 3)]
    order = [a["host"] for a in interleave_addresses([*v6, *v4])]
    assert order == ["::1", "10.0.0.1", "::2", "10.0.0.2", "::3"]
    order = [a["host"] for a in interleave_addresses([*v6, *v4], 2)]
    assert order == ["::1", "::2", "10.0.0.1", "::3", "10.0.0.2"]
    assert interleave_addresses(v4) == v4


class _Resolver:
    def __init__(self, addrs: list[ResolveResult]) -> None:
        self.addrs = addrs

    async def resolve(self, host: str, port: int = 0, family: Any = 0) -> list[ResolveResult]:
        return self.addrs

    async def close(self) -> None:
        pass


def _closed_port() -> int:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    return port


@pytest.mark.parametrize("delay", [0.01, None])
async def test_a_refusing_address_falls_through_to_one_that_answers(delay: float | None) -> None:
    async def handler(reader: Any, writer: Any) -> None:
        await read_request(reader)
        writer.write(reply(200, b"second address"))
        await writer.drain()

    async with raw_server(handler) as srv:
        resolver = _Resolver(
            [_addr("127.0.0.1", port=_closed_port()), _addr("127.0.0.1", port=srv.port)]
        )
        connector = surge.TCPConnector(resolver=resolver, happy_eyeballs_delay=delay)
        async with (
            surge.ClientSession(connector=connector) as s,
            s.get("http://example.test/") as r,
        ):
            assert await r.read() == b"second address"


async def test_all_addresses_refusing_raise_client_connector_error() -> None:
    resolver = _Resolver([_addr("127.0.0.1", port=_closed_port()) for _ in range(3)])
    connector = surge.TCPConnector(resolver=resolver, happy_eyeballs_delay=0.01)
    async with surge.ClientSession(connector=connector) as s:
        with pytest.raises(surge.ClientConnectorError) as info:
            await s.get("http://example.test/")
    assert info.value.host == "example.test"
