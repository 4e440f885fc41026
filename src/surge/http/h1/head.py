"""A parsed HTTP/1.x request head: the request line, framing facts, and the header fields,
kept as the raw field block until something asks for them. Sans-IO."""

from __future__ import annotations

from surge.http.headers import raw_header

__all__ = ["RequestHead", "split_fields"]


class RequestHead:
    """A parsed request line and header block; header names and values stay raw bytes."""

    __slots__ = (
        "_fields",
        "_raw",
        "chunked",
        "content_length",
        "expect",
        "keep_alive",
        "method",
        "target",
        "upgrade",
        "version",
    )

    def __init__(
        self,
        method: str,
        target: str,
        version: tuple[int, int],
        headers: list[tuple[bytes, bytes]],
        keep_alive: bool,
        upgrade: bool,
        chunked: bool,
        content_length: int | None,
        expect: bool = False,
    ) -> None:
        self.method = method
        self.target = target
        self.version = version
        self._fields: list[tuple[bytes, bytes]] | None = headers
        self._raw = b""
        self.keep_alive = keep_alive
        self.upgrade = upgrade
        self.chunked = chunked
        self.content_length = content_length
        self.expect = expect  # an Expect header is present

    @property
    def headers(self) -> list[tuple[bytes, bytes]]:
        """The header fields in order, ``(name, value)`` with the value's OWS stripped."""
        fields = self._fields
        if fields is None:
            fields = self._fields = split_fields(self._raw)
        return fields

    @headers.setter
    def headers(self, fields: list[tuple[bytes, bytes]]) -> None:
        self._fields = fields

    def field(self, lowered_name: bytes) -> str | None:
        """The first value of field ``lowered_name`` (given in lower case), latin-1; found
        in the raw block without splitting the others."""
        fields = self._fields
        if fields is not None:
            return raw_header(fields, lowered_name)
        raw = self._raw
        at = raw.lower().find(b"\n" + lowered_name + b":")
        if at < 0:
            return None
        start = at + len(lowered_name) + 2
        return raw[start : raw.index(b"\r", start)].strip(b" \t").decode("latin-1")

    @property
    def has_body(self) -> bool:
        return self.chunked or bool(self.content_length)


def split_fields(block: bytes) -> list[tuple[bytes, bytes]]:
    """``(name, value)`` pairs of a field block that llhttp accepted, framed as
    ``b"\r\nName: value\r\n...\r\n"``: every line holds a colon, none is folded."""
    fields: list[tuple[bytes, bytes]] = []
    if len(block) > 2:
        for line in block[2:-2].split(b"\r\n"):
            name, _, value = line.partition(b":")
            fields.append((name, value.strip(b" \t")))
    return fields
