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
    """Formats lines with ``%a %t %P %r %s %b %T %Tf %D %{Header}i %{Header}o``."""

    LOG_FORMAT = '%a %t "%r" %s %b "%{Referer}i" "%{User-Agent}i"'
    _FORMAT_RE = re.compile(r"%(\{([A-Za-z0-9\-_]+)\}([ioe])|[atPrsbOD]|Tf?)")
    _cache: dict[str, tuple[str, list[Callable[[Any, Any, float], str]]]] = {}

    def __init__(self, logger: logging.Logger, log_format: str = LOG_FORMAT) -> None:
        super().__init__(logger, log_format)
        cached = self._cache.get(log_format)
        if cached is None:
            cached = self._cache[log_format] = self._compile(log_format)
        self._template, self._getters = cached

    @property
    def enabled(self) -> bool:
        return self.logger.isEnabledFor(logging.INFO)

    def _compile(self, fmt: str) -> tuple[str, list[Callable[[Any, Any, float], str]]]:
        getters: list[Callable[[Any, Any, float], str]] = []

        def replace(match: re.Match[str]) -> str:
            getters.append(self._getter(match))
            return "%s"

        template = self._FORMAT_RE.sub(replace, fmt.replace("%%", "\x00")).replace("\x00", "%%")
        return template, getters

    @staticmethod
    def _getter(match: re.Match[str]) -> Callable[[Any, Any, float], str]:
        key = match.group(1)
        if match.group(2):
            header, kind = match.group(2), match.group(3)
            if kind == "i":
                return lambda req, resp, t: req.headers.get(header, "-")
            if kind == "o":
                return lambda req, resp, t: resp.headers.get(header, "-")
            return lambda req, resp, t: os.environ.get(header, "-")
        table: dict[str, Callable[[Any, Any, float], str]] = {
            "a": lambda req, resp, t: req.remote or "-",
            "t": lambda req, resp, t: (
                datetime.datetime.now(datetime.UTC).astimezone().strftime("[%d/%b/%Y:%H:%M:%S %z]")
            ),
            "P": lambda req, resp, t: f"<{os.getpid()}>",
            "r": lambda req, resp, t: (
                f"{req.method} {req.raw_path} HTTP/{req.version[0]}.{req.version[1]}"
            ),
            "s": lambda req, resp, t: str(resp.status),
            "b": lambda req, resp, t: str(resp.body_length),
            "O": lambda req, resp, t: str(resp.body_length),
            "T": lambda req, resp, t: str(round(t)),
            "Tf": lambda req, resp, t: f"{t:06f}",
            "D": lambda req, resp, t: str(round(t * 1_000_000)),
        }
        return table[key]

    def log(self, request: Any, response: Any, time: float) -> None:
        try:
            values = tuple(getter(request, response, time) for getter in self._getters)
            self.logger.info(self._template % values, extra={"remote_address": request.remote})
        except Exception:
            self.logger.exception("Error in logging")
