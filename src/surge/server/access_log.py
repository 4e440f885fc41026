"""Access logging with aiohttp's format directives and ``AbstractAccessLogger``."""

from __future__ import annotations

import abc
import datetime
import logging
import os
import re
from collections.abc import Callable
from typing import Any

__all__ = ["AbstractAccessLogger", "AccessLogger"]


class AbstractAccessLogger(abc.ABC):
    """Subclass and implement ``log(request, response, time)`` for a custom access log."""

    __slots__ = ("log_format", "logger")

    def __init__(self, logger: logging.Logger, log_format: str) -> None:
        self.logger = logger
        self.log_format = log_format

    @abc.abstractmethod
    def log(self, request: Any, response: Any, time: float) -> None: ...

    @property
    def enabled(self) -> bool:
        return True


class AccessLogger(AbstractAccessLogger):
    """Formats lines with aiohttp's directives.

    ``%a`` remote address, ``%t`` time the request started, ``%P`` process id, ``%r`` request
    line, ``%s`` status, ``%b`` response bytes sent with the head (as aiohttp counts them;
    HTTP/2 heads are not counted), ``%T`` seconds taken, ``%Tf`` seconds with fraction,
    ``%D`` microseconds taken, ``%{H}i`` request header, ``%{H}o`` response header, ``%%`` a
    percent sign. Each value also goes to the record's ``extra`` under a name
    (``remote_address``, ``first_request_line``, ``request_header`` ...) for structured logs.
    """

    LOG_FORMAT = '%a %t "%r" %s %b "%{Referer}i" "%{User-Agent}i"'
    _FORMAT_RE = re.compile(r"%(\{([A-Za-z0-9\-_]+)\}([ioe])|[atPrsbOD]|Tf?)")
    _cache: dict[str, tuple[str, list[_Item]]] = {}

    def __init__(self, logger: logging.Logger, log_format: str = LOG_FORMAT) -> None:
        super().__init__(logger, log_format)
        cached = self._cache.get(log_format)
        if cached is None:
            cached = self._cache[log_format] = self._compile(log_format)
        self._template, self._items = cached

    @property
    def enabled(self) -> bool:
        return self.logger.isEnabledFor(logging.INFO)

    @classmethod
    def _compile(cls, fmt: str) -> tuple[str, list[_Item]]:
        items: list[_Item] = []

        def replace(match: re.Match[str]) -> str:
            items.append(cls._item(match))
            return "\x01"

        # Directives become %s; every other % (literal or unknown) is escaped for the % operator.
        template = cls._FORMAT_RE.sub(replace, fmt.replace("%%", "\x00")).replace("%", "%%")
        return template.replace("\x01", "%s").replace("\x00", "%%"), items

    @staticmethod
    def _item(match: re.Match[str]) -> _Item:
        key = match.group(1)
        if match.group(2):
            header, kind = match.group(2), match.group(3)
            if kind == "i":
                return "request_header", header, lambda req, resp, t: req.headers.get(header, "-")
            if kind == "o":
                return "response_header", header, lambda req, resp, t: resp.headers.get(header, "-")
            return "environ", header, lambda req, resp, t: os.environ.get(header, "-")
        return _SIMPLE[key]

    def log(self, request: Any, response: Any, time: float) -> None:
        try:
            values = []
            extra: dict[str, Any] = {}
            for name, header, getter in self._items:
                value = getter(request, response, time)
                values.append(value)
                if header is None:
                    extra[name] = value
                else:
                    extra.setdefault(name, {})[header] = value
            self.logger.info(self._template % tuple(values), extra=extra)
        except Exception:
            self.logger.exception("Error in logging")


def _start_time(request: Any, response: Any, time: float) -> str:
    started = datetime.datetime.now(datetime.UTC).astimezone() - datetime.timedelta(seconds=time)
    return started.strftime("[%d/%b/%Y:%H:%M:%S %z]")


def _first_line(request: Any, response: Any, time: float) -> str:
    version = request.version
    return f"{request.method} {request.raw_path} HTTP/{version[0]}.{version[1]}"


_Getter = Callable[[Any, Any, float], str]
# (name in the record's extra, header name or None, getter)
_Item = tuple[str, "str | None", _Getter]

_SIMPLE: dict[str, _Item] = {
    "a": ("remote_address", None, lambda req, resp, t: req.remote or "-"),
    "t": ("request_start_time", None, _start_time),
    "P": ("process_id", None, lambda req, resp, t: f"<{os.getpid()}>"),
    "r": ("first_request_line", None, _first_line),
    "s": ("response_status", None, lambda req, resp, t: str(resp.status)),
    "b": ("response_size", None, lambda req, resp, t: str(resp.body_length)),
    "O": ("response_size", None, lambda req, resp, t: str(resp.body_length)),
    "T": ("request_time", None, lambda req, resp, t: str(round(t))),
    "Tf": ("request_time_frac", None, lambda req, resp, t: f"{t:06f}"),
    "D": ("request_time_micro", None, lambda req, resp, t: str(round(t * 1_000_000))),
}
