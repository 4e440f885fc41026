"""How a session's defaults meet one call: the headers it sends, the URL targets it caches
and the send options its hops share.

The automatic and session headers are merged once into a base block and rebuilt only when
``session.headers`` changes in place (its multidict version moves); each URL string is
resolved against ``base_url`` once and cached (bounded), so a plain call merges nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

from multidict import CIMultiDict, getversion, istr
from yarl import URL

from surge.client.exchange import Progress, SendOptions
from surge.client.request import Target, build_url, check_headers, default_headers, host_header
from surge.client.response import CharsetResolver, ClientResponse
from surge.client.timeouts import ClientTimeout
from surge.client.tracing import Trace

__all__ = ["SessionDefaults"]


class SessionDefaults:
    """The part of :class:`~surge.client.session.ClientSession` that merges its defaults
    into a call (the session's constructor sets these attributes)."""

    _base_url: URL | None
    _default_headers: CIMultiDict[str]
    _skip_auto_headers: frozenset[istr]
    _base_headers: CIMultiDict[str]
    _headers_version: Any
    _targets: dict[str, Target]  # URL string -> what it means on the wire
    _read_bufsize: int
    _auto_decompress: bool
    _max_line_size: int
    _max_field_size: int
    _max_headers: int
    _max_decompressed_size: int
    _upload_progress: Progress | None
    _download_progress: Progress | None
    _response_class: type[ClientResponse]
    _resolve_charset: CharsetResolver | None

    def _build_base_headers(self) -> CIMultiDict[str]:
        """The automatic headers less the skipped ones, then the session's: built once."""
        skip = self._skip_auto_headers
        merged: CIMultiDict[str] = CIMultiDict(
            (name, value) for name, value in default_headers().items() if name not in skip
        )
        for name in set(self._default_headers.keys()):
            merged.popall(name, None)
        merged.extend(self._default_headers)
        return merged

    def _target(self, raw: str) -> Target:
        """``raw`` resolved against ``base_url`` and checked; cached per session."""
        if getversion(cast(Any, self._default_headers)) != self._headers_version:
            # session.headers was changed in place: later requests send the new headers.
            check_headers(self._default_headers.items())
            self._base_headers = self._build_base_headers()
            self._headers_version = getversion(cast(Any, self._default_headers))
            self._targets.clear()
        target = self._targets.get(raw)
        if target is None:
            target = Target(build_url(raw, self._base_url), self._base_headers)
            if len(self._targets) >= 512:
                self._targets.clear()  # many distinct URLs: keep the cache bounded
            self._targets[raw] = target
        return target

    def _options(
        self,
        *,
        skip: frozenset[istr],
        cookies: Any,
        read_bufsize: int | None,
        auto_decompress: bool | None,
        max_line_size: int | None,
        max_field_size: int | None,
        max_headers: int | None,
        read_until_eof: bool,
        timeout: ClientTimeout,
        traces: Sequence[Trace],
        on_upload_progress: Progress | None,
        on_download_progress: Progress | None,
    ) -> SendOptions:
        return SendOptions(
            skip=skip,
            cookies=cookies,
            read_bufsize=read_bufsize or self._read_bufsize,
            auto_decompress=self._auto_decompress if auto_decompress is None else auto_decompress,
            max_line=max_line_size or self._max_line_size,
            max_field=max_field_size or self._max_field_size,
            max_headers=max_headers or self._max_headers,
            read_until_eof=read_until_eof,
            max_decompressed=self._max_decompressed_size,
            timeout=timeout,
            traces=traces,
            upload_progress=on_upload_progress or self._upload_progress,
            download_progress=on_download_progress or self._download_progress,
            response_class=self._response_class,
            resolve_charset=self._resolve_charset,
        )

    def _merge_headers(self, url: URL, headers: Any, skip: frozenset[istr]) -> CIMultiDict[str]:
        # Host goes first, as RFC 9112 recommends; then the automatic and session headers.
        merged: CIMultiDict[str] = CIMultiDict()
        if "Host" not in skip:
            merged["Host"] = host_header(url)
        if skip is self._skip_auto_headers:
            merged.extend(self._base_headers)
        else:
            for name, value in default_headers().items():
                if name not in skip:
                    merged[name] = value
            if self._default_headers:
                for name in set(self._default_headers.keys()):
                    merged.popall(name, None)
                merged.extend(self._default_headers)
        if headers:
            extra = CIMultiDict(headers)
            check_headers(extra.items())
            # A request header replaces the session's of the same name (all of its values).
            for name in set(extra.keys()):
                merged.popall(name, None)
            merged.extend(extra)
        return merged
