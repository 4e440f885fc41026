"""aiohttp's deprecated client arguments, mapped onto the current ones with a warning.

aiohttp 3.x still accepts ``verify_ssl``/``fingerprint``/``ssl_context`` (now ``ssl=``),
``read_timeout``/``conn_timeout`` (now ``timeout=ClientTimeout(...)``) and
``ssl_shutdown_timeout``; programs written against it keep working here with the same
:class:`DeprecationWarning`. The shims live in one module so the constructors that use
them stay about the current API (``compat/`` sits above the client and cannot be imported
from it).
"""

from __future__ import annotations

import dataclasses
import ssl as ssllib
import warnings
from typing import Any

from surge.client.fingerprint import Fingerprint
from surge.client.timeouts import DEFAULT_TIMEOUT, ClientTimeout

__all__ = ["SENTINEL", "merge_ssl", "merge_timeouts", "warn_ssl_shutdown_timeout"]

SENTINEL: Any = object()


def merge_ssl(
    ssl: Any,
    verify_ssl: bool | None,
    ssl_context: ssllib.SSLContext | None,
    fingerprint: bytes | None,
    *,
    stacklevel: int = 3,
) -> Any:
    """The ``ssl=`` value the deprecated arguments stand for; ValueError when several are
    given (they are different answers to one question)."""
    if ssl is None:
        ssl = True  # aiohttp's older spelling of the default
    if verify_ssl is not None and not verify_ssl:
        warnings.warn(
            "verify_ssl is deprecated, use ssl=False instead", DeprecationWarning, stacklevel
        )
        if ssl is not True:
            raise ValueError(_EXCLUSIVE)
        ssl = False
    if ssl_context is not None:
        warnings.warn(
            "ssl_context is deprecated, use ssl=context instead", DeprecationWarning, stacklevel
        )
        if ssl is not True:
            raise ValueError(_EXCLUSIVE)
        ssl = ssl_context
    if fingerprint is not None:
        warnings.warn(
            "fingerprint is deprecated, use ssl=Fingerprint(fingerprint) instead",
            DeprecationWarning,
            stacklevel,
        )
        if ssl is not True:
            raise ValueError(_EXCLUSIVE)
        ssl = Fingerprint(fingerprint)
    if not isinstance(ssl, ssllib.SSLContext | Fingerprint | bool):
        raise TypeError(f"ssl should be SSLContext, Fingerprint, or bool, got {ssl!r} instead.")
    return ssl


_EXCLUSIVE = "verify_ssl, ssl_context, fingerprint and ssl parameters are mutually exclusive"


def merge_timeouts(
    timeout: Any, read_timeout: Any, conn_timeout: float | None, *, stacklevel: int = 3
) -> ClientTimeout:
    """The session timeout: ``read_timeout`` is the old total, ``conn_timeout`` the old
    connect limit; either conflicts with an explicit ``timeout``."""
    explicit = timeout is not SENTINEL and timeout is not None
    if explicit and not isinstance(timeout, ClientTimeout):
        raise ValueError(
            f"timeout parameter cannot be of {type(timeout)} type, "
            "please use 'timeout=ClientTimeout(...)'"
        )
    result: ClientTimeout = timeout if explicit else DEFAULT_TIMEOUT
    if read_timeout is not SENTINEL:
        if explicit:
            raise ValueError(
                "read_timeout and timeout parameters conflict, please setup timeout.read"
            )
        warnings.warn(
            "read_timeout is deprecated, use timeout argument instead",
            DeprecationWarning,
            stacklevel,
        )
        result = dataclasses.replace(result, total=read_timeout or None)
    if conn_timeout is not None:
        if explicit:
            raise ValueError(
                "conn_timeout and timeout parameters conflict, please setup timeout.connect"
            )
        warnings.warn(
            "conn_timeout is deprecated, use timeout argument instead",
            DeprecationWarning,
            stacklevel,
        )
        result = dataclasses.replace(result, connect=conn_timeout)
    return result


def warn_ssl_shutdown_timeout(value: Any, *, stacklevel: int = 3) -> None:
    """aiohttp deprecated ``ssl_shutdown_timeout`` (TLS connections are closed without
    waiting for the peer's close_notify); any value given warns and changes nothing."""
    if value is not SENTINEL:
        warnings.warn(
            "The ssl_shutdown_timeout parameter is deprecated and will be removed in aiohttp 4.0",
            DeprecationWarning,
            stacklevel,
        )
