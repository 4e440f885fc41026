"""``aiohttp.http_exceptions`` on surge.

``HttpProcessingError`` is surge's protocol error base class: it carries ``message`` and the HTTP
status (``code``) the server answers with.
"""

from surge.http.errors import BadRequest as BadHttpMessage
from surge.http.errors import BadStatusLine
from surge.http.errors import HeadersTooLarge as LineTooLong
from surge.http.errors import HttpProtocolError as HttpProcessingError
from surge.http.errors import PayloadError as ContentLengthError

__all__ = [
    "BadHttpMessage",
    "BadStatusLine",
    "ContentLengthError",
    "HttpProcessingError",
    "LineTooLong",
]
