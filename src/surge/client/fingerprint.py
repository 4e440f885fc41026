"""``Fingerprint``: pin a server's certificate by its SHA-256 digest (``ssl=Fingerprint(...)``).

A pinned connection skips CA verification (the pin is the trust anchor) and is checked right
after the handshake, before any request byte is written.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Callable
from typing import Any

from surge.client.exceptions import ServerFingerprintMismatch

__all__ = ["Fingerprint"]

_HASHES: dict[int, Callable[..., Any]] = {32: hashlib.sha256}
_WEAK = frozenset({16, 20})  # md5, sha1


class Fingerprint:
    """``session.get(url, ssl=Fingerprint(bytes.fromhex("6f0c...")))``"""

    __slots__ = ("_fingerprint", "_hashfunc")

    HASHFUNC_BY_DIGESTLEN = _HASHES

    def __init__(self, fingerprint: bytes) -> None:
        size = len(fingerprint)
        hashfunc = _HASHES.get(size)
        if hashfunc is None:
            if size in _WEAK:
                raise ValueError("md5 and sha1 are insecure and not supported. Use sha256.")
            raise ValueError("fingerprint has invalid length")
        self._fingerprint = fingerprint
        self._hashfunc = hashfunc

    @property
    def fingerprint(self) -> bytes:
        return self._fingerprint

    def __repr__(self) -> str:
        return f"<Fingerprint {self._fingerprint.hex()}>"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Fingerprint) and other._fingerprint == self._fingerprint

    def __hash__(self) -> int:
        return hash(self._fingerprint)

    def check(self, transport: asyncio.BaseTransport) -> None:
        """Raise :class:`ServerFingerprintMismatch` unless the peer's certificate matches."""
        sslobj = transport.get_extra_info("ssl_object")
        if sslobj is None:
            return
        cert = sslobj.getpeercert(binary_form=True) or b""
        got = self._hashfunc(cert).digest()
        if got != self._fingerprint:
            host, port, *_ = transport.get_extra_info("peername") or ("", 0)
            raise ServerFingerprintMismatch(self._fingerprint, got, host, port)
