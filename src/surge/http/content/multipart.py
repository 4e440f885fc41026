"""Multipart bodies (RFC 7578 / RFC 2046): streaming reader and writer.

Placeholder until the content work lands (issue 6); ``MultipartReader`` refuses clearly.
"""

from __future__ import annotations

from typing import Any

__all__ = ["MultipartReader"]


class MultipartReader:
    def __init__(self, headers: Any, content: Any) -> None:
        raise NotImplementedError("multipart reading arrives with the content work")
