"""``aiohttp.formdata`` on surge: the same public names, from surge's modules."""

from surge import (
    FormData,
)

__all__ = [
    "FormData",
]
