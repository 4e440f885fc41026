"""The measured endpoints: what wrk sends to each and what a correct answer looks like."""

from __future__ import annotations

import json
from dataclasses import dataclass

from bench.apps.app import HELLO, JSON_BODY


@dataclass(frozen=True, slots=True)
class Endpoint:
    """One benchmark: a request wrk repeats, and the answer that proves the server is right."""

    name: str
    method: str
    path: str
    body_size: int = 0

    @property
    def body(self) -> bytes:
        # Deterministic, non-repeating-looking filler so compression tricks could not help.
        return bytes((i * 31 + 7) % 251 for i in range(self.body_size))

    def expected(self) -> bytes:
        """The response body a correct server returns."""
        if self.name == "plaintext":
            return HELLO.encode()
        if self.name == "json":
            return json.dumps(JSON_BODY).encode()
        if self.name == "routing":
            return self.path.rsplit("/", 1)[1].encode()
        return self.body


ENDPOINTS: dict[str, Endpoint] = {
    e.name: e
    for e in (
        Endpoint("plaintext", "GET", "/"),
        Endpoint("json", "GET", "/json"),
        Endpoint("routing", "GET", "/route/12345"),
        Endpoint("echo-1k", "POST", "/echo", 1024),
        Endpoint("echo-64k", "POST", "/echo", 65536),
    )
}
