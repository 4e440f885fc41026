"""Retries, as an I/O-free generator policy: ``yield request`` / ``yield delay``.

The driver sends each request the policy yields and sends back the response, or throws the
exception the attempt raised into it; a yielded float is a pause (seconds) before the next
attempt. The policy returns when the last response stands, or lets the exception out.
Defaults: idempotent methods only, a replayable body only, exponential backoff with jitter,
``Retry-After`` (seconds or an HTTP date) honoured up to ``max_retry_after``.
"""

from __future__ import annotations

import dataclasses
import email.utils
import random
import time
from collections.abc import Callable, Generator
from typing import Any

from surge.client.exceptions import ClientConnectionError, ClientPayloadError
from surge.client.request import ClientRequest

__all__ = ["RetryOptions", "retry_after_seconds", "retry_policy"]

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE"})
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


@dataclasses.dataclass(frozen=True, slots=True)
class RetryOptions:
    """How to retry a request (``ClientSession(retry=RetryOptions(attempts=4))``; per request
    ``session.get(url, retry=RetryOptions(...))``, ``retry=None`` to turn it off).

    ``attempts`` counts the first try; the pause before try *n+1* is
    ``min(max_backoff, backoff * 2 ** (n - 1))``, less up to ``jitter`` of it at random.
    """

    attempts: int = 3
    methods: frozenset[str] = IDEMPOTENT_METHODS
    statuses: frozenset[int] = RETRY_STATUSES
    exceptions: tuple[type[BaseException], ...] = (ClientConnectionError, ClientPayloadError)
    backoff: float = 0.5
    max_backoff: float = 30.0
    jitter: float = 0.5
    retry_after: bool = True
    max_retry_after: float = 120.0

    def __post_init__(self) -> None:
        if self.attempts < 1:
            raise ValueError("attempts must be at least 1")
        if not 0 <= self.jitter <= 1:
            raise ValueError("jitter must be between 0 and 1")
        object.__setattr__(self, "methods", frozenset(m.upper() for m in self.methods))
        object.__setattr__(self, "statuses", frozenset(self.statuses))

    def delay(self, attempt: int, rand: Callable[[], float] = random.random) -> float:
        """The pause after failed try number ``attempt`` (1-based)."""
        base = min(self.max_backoff, self.backoff * 2 ** (attempt - 1))
        return float(base * (1 - self.jitter * rand()))


def retry_after_seconds(value: str | None, now: float | None = None) -> float | None:
    """``Retry-After`` as seconds from now (RFC 9110 10.2.3), or None if absent/invalid."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def retry_policy(
    request: ClientRequest, options: RetryOptions, rand: Callable[[], float] = random.random
) -> Generator[ClientRequest | float, Any, None]:
    """Yield ``request`` until it succeeds or the options say stop (see the module doc)."""
    allowed = request.method in options.methods and request.payload.replayable
    attempt = 1
    while True:
        try:
            response = yield request
        except options.exceptions:
            if not allowed or attempt >= options.attempts:
                raise
            delay = options.delay(attempt, rand)
        else:
            if (
                not allowed
                or attempt >= options.attempts
                or response.status not in options.statuses
            ):
                return
            delay = options.delay(attempt, rand)
            if options.retry_after:
                asked = retry_after_seconds(response.headers.get("Retry-After"))
                if asked is not None:
                    if asked > options.max_retry_after:
                        return  # the server wants longer than we wait: its answer stands
                    delay = asked
        attempt += 1
        yield delay
