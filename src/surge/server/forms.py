"""Reading form bodies into ``request.post()`` results.

Text fields become ``str``; uploaded files become :class:`FileField` whose ``file`` is spooled
to a temporary file once larger than ``SPOOL_THRESHOLD``. The whole form counts against the
request's ``client_max_size`` (413 when exceeded), so an upload cannot exhaust memory or disk.
"""

from __future__ import annotations

import tempfile
from typing import IO, TYPE_CHECKING, Any

from multidict import CIMultiDictProxy, MultiDict

from surge.http.content.codecs import DEFAULT_MAX_DECOMPRESSED_SIZE
from surge.http.content.multipart import decode_content
from surge.net.multipart import BodyPartReader, MultipartError, MultipartReader

if TYPE_CHECKING:
    from surge.server.request import BaseRequest

__all__ = ["SPOOL_THRESHOLD", "FileField", "read_multipart_form", "too_many_fields"]

SPOOL_THRESHOLD = 1024 * 1024
"""Uploaded files larger than this many bytes move from memory to a temporary file."""


class FileField:
    """An uploaded file from a multipart form (``await request.post()``).

    ``file`` is a binary file object positioned at the start of the content.
    """

    __slots__ = ("content_type", "file", "filename", "headers", "name")

    def __init__(
        self,
        name: str,
        filename: str,
        file: IO[bytes],
        content_type: str,
        headers: CIMultiDictProxy[str],
    ) -> None:
        self.name = name
        self.filename = filename
        self.file = file
        self.content_type = content_type
        self.headers = headers

    def __repr__(self) -> str:
        return f"<FileField {self.name}={self.filename!r} ({self.content_type})>"


class _UploadFile(tempfile.SpooledTemporaryFile):  # type: ignore[type-arg]
    """A spooled upload that a forgotten handler can drop: closed quietly when collected.

    Handlers often read ``field.file`` and never close it; that must not raise a
    ResourceWarning (fatal under ``-W error``) nor keep a temporary file open.
    """

    def __del__(self) -> None:
        self.close()


def too_many_fields(limit: int) -> Exception:
    """The 413 for a form of more than ``client_max_fields`` fields."""
    from surge.server.exceptions import HTTPRequestEntityTooLarge

    return HTTPRequestEntityTooLarge(
        max_size=limit,
        actual_size=limit + 1,
        text=f"Maximum number of form fields {limit} exceeded.",
    )


class _Budget:
    """Bytes left of ``client_max_size`` for the whole form, and fields left of
    ``client_max_fields``."""

    __slots__ = ("fields", "limit", "max_fields", "used")

    def __init__(self, limit: int, max_fields: int = 0) -> None:
        self.limit = limit
        self.used = 0
        self.max_fields = max_fields
        self.fields = 0

    def count_field(self) -> None:
        self.fields += 1
        if self.max_fields and self.fields > self.max_fields:
            raise too_many_fields(self.max_fields)

    def spend(self, n: int) -> None:
        self.used += n
        if self.limit and self.used > self.limit:
            from surge.server.exceptions import HTTPRequestEntityTooLarge

            raise HTTPRequestEntityTooLarge(max_size=self.limit, actual_size=self.used)


async def _read_bounded(part: BodyPartReader, budget: _Budget) -> bytes:
    chunks = []
    while chunk := await part.read_chunk(65536):
        budget.spend(len(chunk))
        chunks.append(chunk)
    headers = part.headers
    return decode_content(
        b"".join(chunks),
        headers.get("Content-Transfer-Encoding"),
        headers.get("Content-Encoding"),
        budget.limit or DEFAULT_MAX_DECOMPRESSED_SIZE,
    )


async def _read_file(part: BodyPartReader, budget: _Budget) -> IO[bytes]:
    spool: IO[bytes] = _UploadFile(max_size=SPOOL_THRESHOLD)
    try:
        if "Content-Transfer-Encoding" in part.headers or "Content-Encoding" in part.headers:
            spool.write(await _read_bounded(part, budget))
        else:
            while chunk := await part.read_chunk(65536):
                budget.spend(len(chunk))
                spool.write(chunk)
    except BaseException:
        spool.close()
        raise
    spool.seek(0)
    return spool


async def _add_parts(
    form: MultiDict[Any],
    reader: MultipartReader,
    budget: _Budget,
    charset: str,
    outer_name: str | None = None,
) -> None:
    async for part in reader:
        if isinstance(part, MultipartReader):
            # RFC 2388's multipart/mixed for several files under one field name.
            name = outer_name
            if name is None:
                disposition = part.headers.get("Content-Disposition", "")
                from surge.http.content.multipart import parse_content_disposition

                name = parse_content_disposition(disposition)[1].get("name", "")
            await _add_parts(form, part, budget, charset, name)
            continue
        budget.count_field()  # before reading the part: a flood of tiny fields stops early
        name = part.name if part.name is not None else (outer_name or "")
        filename = part.filename
        if filename is not None or outer_name is not None:
            content_type = part.headers.get("Content-Type", "application/octet-stream")
            file = await _read_file(part, budget)
            form.add(name, FileField(name, filename or "", file, content_type, part.headers))
        else:
            data = await _read_bounded(part, budget)
            form.add(name, data.decode(part.get_charset(charset)))


async def read_multipart_form(request: BaseRequest) -> MultiDict[Any]:
    """Every field of a ``multipart/form-data`` body; 400 when malformed, 413 when too big."""
    form: MultiDict[Any] = MultiDict()
    budget = _Budget(request.client_max_size, request.client_max_fields)
    try:
        reader = await request.multipart()
        await _add_parts(form, reader, budget, request.charset or "utf-8")
    except (MultipartError, UnicodeDecodeError, LookupError) as exc:
        _close_files(form)
        from surge.server.exceptions import HTTPBadRequest

        raise HTTPBadRequest(text=f"Malformed multipart body: {exc}") from None
    except BaseException:
        _close_files(form)
        raise
    return form


def _close_files(form: MultiDict[Any]) -> None:
    for value in form.values():
        if isinstance(value, FileField):
            value.file.close()
