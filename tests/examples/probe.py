"""Observing client sessions an example opens and leaves with ``pass``: each is probed with one
request just before it closes, so its configuration shows in what a server receives."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from surge import ClientSession
from surge.compat import aiohttp


@dataclass
class Probes:
    sessions: list[ClientSession] = field(default_factory=list)
    answers: list[tuple[int, Any]] = field(default_factory=list)


def probe_sessions(monkeypatch: pytest.MonkeyPatch, urls: list[str | None]) -> Probes:
    """``aiohttp.ClientSession`` becomes a subclass that, on leaving ``async with``, GETs the
    next URL of ``urls`` (None: no probe) and records ``(status, json)``."""
    probes = Probes()

    class ProbedSession(ClientSession):
        async def __aexit__(self, *exc: Any) -> None:
            url = urls[len(probes.sessions)]
            probes.sessions.append(self)
            if url is not None:
                async with self.get(url) as response:
                    probes.answers.append((response.status, await response.json()))
            await super().__aexit__(*exc)

    monkeypatch.setattr(aiohttp, "ClientSession", ProbedSession)
    return probes
