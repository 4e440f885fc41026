"""Conditional and range request headers (RFC 9110 sections 13 and 14), parsed on demand.

A mixin of :class:`~surge.server.request.BaseRequest`: each value is parsed on first access
and cached on the instance; a malformed date is ``None``, as if the header were absent.
"""

from __future__ import annotations

import datetime
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING

from surge.http.conditional import ETag, parse_etag_list
from surge.util.reify import reify

if TYPE_CHECKING:
    from multidict import CIMultiDictProxy

__all__ = ["ConditionalHeaders"]


class ConditionalHeaders:
    """``if_modified_since``, ``if_unmodified_since``, ``if_range``, ``if_match``,
    ``if_none_match`` and ``http_range``."""

    if TYPE_CHECKING:
        headers: CIMultiDictProxy[str]

    def _http_date(self, name: str) -> datetime.datetime | None:
        value = self.headers.get(name)
        if not value:
            return None
        try:
            parsed = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=datetime.UTC)
        return parsed

    @reify
    def if_modified_since(self) -> datetime.datetime | None:
        return self._http_date("If-Modified-Since")

    @reify
    def if_unmodified_since(self) -> datetime.datetime | None:
        return self._http_date("If-Unmodified-Since")

    @reify
    def if_range(self) -> datetime.datetime | None:
        return self._http_date("If-Range")

    @reify
    def if_match(self) -> tuple[ETag, ...] | None:
        return parse_etag_list(self.headers.get("If-Match"))

    @reify
    def if_none_match(self) -> tuple[ETag, ...] | None:
        return parse_etag_list(self.headers.get("If-None-Match"))

    @reify
    def http_range(self) -> slice:
        """The ``Range`` header as a slice (one range); ``slice(None, None)`` when absent."""
        from surge.http.headers import parse_range

        return parse_range(self.headers.get("Range"))
