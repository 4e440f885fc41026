"""Reading form bodies into ``request.post()`` results."""

from __future__ import annotations

from typing import Any

from multidict import MultiDict

__all__ = ["read_multipart_form"]


async def read_multipart_form(request: Any) -> MultiDict[Any]:
    raise NotImplementedError("multipart forms arrive with the content work")
