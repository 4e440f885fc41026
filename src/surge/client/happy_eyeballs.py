"""Happy eyeballs (RFC 8305): try a host's addresses staggered, keep the first that connects.

Addresses alternate between families (``interleave`` of the first family, then one of the
next, ...) so a broken IPv6 path costs one ``delay``, not a full connect timeout. Every
connection but the winner is closed, including one that lost the race by a hair.
"""

from __future__ import annotations

import asyncio
import itertools
from asyncio.staggered import staggered_race
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

from surge.client.resolver import ResolveResult

__all__ = ["interleave_addresses", "race"]

T = TypeVar("T")


def interleave_addresses(
    addrs: Sequence[ResolveResult], first_family_count: int | None = None
) -> list[ResolveResult]:
    """``addrs`` reordered to alternate families, ``first_family_count`` of the first family
    leading (RFC 8305 section 4; 1 when not given)."""
    if not addrs:
        return []
    by_family: dict[int, list[ResolveResult]] = {}
    for addr in addrs:
        by_family.setdefault(addr["family"], []).append(addr)
    if len(by_family) == 1:
        return list(addrs)
    groups = list(by_family.values())  # in the resolver's order of first appearance
    first = groups[0]
    count = max(1, first_family_count or 1)
    out = first[: count - 1]
    rest = [first[count - 1 :], *groups[1:]]
    for batch in itertools.zip_longest(*rest):
        out.extend(a for a in batch if a is not None)
    return out


async def race(
    attempts: Sequence[Callable[[], Awaitable[T]]],
    delay: float,
    close: Callable[[Any], Any],
) -> tuple[T | None, list[BaseException | None]]:
    """Start ``attempts`` ``delay`` seconds apart; the first success wins, ``close`` the rest."""
    done: list[T] = []

    def track(attempt: Callable[[], Awaitable[T]]) -> Callable[[], Awaitable[T]]:
        async def run() -> T:
            result = await attempt()
            done.append(result)
            return result

        return run

    try:
        winner, _, errors = await staggered_race([track(a) for a in attempts], delay)
    except BaseException:
        for result in done:
            close(result)
        raise
    for result in done:
        if result is not winner:
            close(result)
    return winner, list(errors)


async def sequential(
    attempts: Sequence[Callable[[], Awaitable[T]]],
) -> tuple[T | None, list[BaseException | None]]:
    """The attempts one after another (no staggering)."""
    errors: list[BaseException | None] = []
    for attempt in attempts:
        try:
            return await attempt(), errors
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            errors.append(exc)
    return None, errors
