"""``MultipartWriter``: a multipart body built part by part (``aiohttp.MultipartWriter``).

``with MultipartWriter("form-data") as mp: mp.append("text"); mp.append_json({"a": 1})`` and then
``session.post(url, data=mp)``. In memory when every part is, streamed when a part is a file.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterable, AsyncIterator, Iterator, Mapping
from typing import Any
from urllib.parse import urlencode

from surge.compat.payloads import Payload, StringPayload, get_payload

__all__ = ["MultipartWriter"]


class MultipartWriter(Payload):
    """A ``multipart/<subtype>`` body; each appended value becomes a part with its headers."""

    def __init__(self, subtype: str = "mixed", boundary: str | None = None) -> None:
        boundary = boundary if boundary is not None else uuid.uuid4().hex
        if not boundary.isascii() or any(c in boundary for c in '\r\n"'):
            raise ValueError("boundary must be ASCII without quotes or line breaks")
        self._boundary = boundary
        self._parts: list[Payload] = []
        super().__init__(None, content_type=f'multipart/{subtype}; boundary="{boundary}"')

    # The base class stores data/stream/size; here they follow the parts appended so far.
    @property
    def data(self) -> bytes | None:
        if any(p.data is None for p in self._parts):
            return None
        return b"".join(self._pieces())

    @data.setter
    def data(self, value: Any) -> None:
        pass

    @property
    def stream(self) -> AsyncIterable[bytes] | None:
        if all(p.data is not None for p in self._parts):
            return None
        return self._stream()

    @stream.setter
    def stream(self, value: Any) -> None:
        pass

    @property
    def size(self) -> int | None:
        if any(p.size is None for p in self._parts):
            return None
        return sum(len(piece) for piece in self._pieces(bodies=False)) + sum(
            p.size or 0 for p in self._parts
        )

    @size.setter
    def size(self, value: Any) -> None:
        pass

    @property
    def boundary(self) -> str:
        return self._boundary

    def __enter__(self) -> MultipartWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        pass

    def __iter__(self) -> Iterator[Payload]:
        return iter(self._parts)

    def __len__(self) -> int:
        return len(self._parts)

    def __bool__(self) -> bool:
        return True

    def append(self, obj: Any, headers: Mapping[str, str] | None = None) -> Payload:
        """Add ``obj`` (bytes, str, file, payload, another writer) as a part."""
        payload = obj if isinstance(obj, Payload) else get_payload(obj, headers=headers)
        if isinstance(obj, Payload) and headers:
            payload.headers.update(headers)
        return self.append_payload(payload)

    def append_payload(self, payload: Payload) -> Payload:
        self._parts.append(payload)
        return payload

    def append_json(self, obj: Any, headers: Mapping[str, str] | None = None) -> Payload:
        body = json.dumps(obj)
        return self.append_payload(
            StringPayload(body, content_type="application/json", headers=headers)
        )

    def append_form(self, obj: Any, headers: Mapping[str, str] | None = None) -> Payload:
        items = list(obj.items()) if isinstance(obj, Mapping) else list(obj)
        return self.append_payload(
            StringPayload(
                urlencode(items, doseq=True),
                content_type="application/x-www-form-urlencoded",
                headers=headers,
            )
        )

    def _head(self, part: Payload) -> bytes:
        lines = "".join(f"{k}: {v}\r\n" for k, v in part.headers.items())
        return f"--{self._boundary}\r\n{lines}\r\n".encode()

    def _tail(self) -> bytes:
        return f"--{self._boundary}--\r\n".encode()

    def _pieces(self, *, bodies: bool = True) -> Iterator[bytes]:
        for part in self._parts:
            yield self._head(part)
            if bodies:
                yield part.data or b""
            yield b"\r\n"
        yield self._tail()

    async def _stream(self) -> AsyncIterator[bytes]:
        for part in self._parts:
            yield self._head(part)
            async for chunk in part._chunks():
                yield chunk
            yield b"\r\n"
        yield self._tail()
