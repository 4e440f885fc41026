"""surge has aiohttp 3.14's public API down to parameters and attributes.

``data/aiohttp_surface.json`` (made by ``data/generate_surface.py`` from an installed aiohttp,
by introspection only) lists, for every public class of ``aiohttp`` and ``aiohttp.web``, the
constructor's parameters, the public attributes and the public methods' parameters, and the
attributes of a few live instances. The test computes what surge lacks of it
(:mod:`tests.compat.surface`) and fails when that differs from ``NOT_SUPPORTED``: a new gap
fails, and so does an entry here that surge has since filled (delete it).
"""

from __future__ import annotations

from tests.compat.surface import DATA, class_gaps, instance_gaps

_PAYLOADS = [
    "AsyncIterablePayload",
    "BufferedReaderPayload",
    "BytesIOPayload",
    "BytesPayload",
    "IOBasePayload",
    "JsonPayload",
    "MultipartWriter",
    "Payload",
    "StringIOPayload",
    "StringPayload",
    "TextIOPayload",
]

# aiohttp's own machinery, named in its classes but not part of what a program calls.
_INTERNALS = {
    # ClientSession.ATTRS and its siblings: the attribute names aiohttp's __setattr__ checks
    # to warn about custom attributes; surge does not police attribute names.
    *(
        f"<{name}>.ATTRS" if name in DATA["instances"] else f"{name}.ATTRS"
        for name in DATA["classes"]
        if "ATTRS" in DATA["classes"][name]["attrs"]
    ),
    # Payload writing protocol (aiohttp 3.12+): surge's connection writes payloads itself.
    *(
        f"aiohttp.{p}.{a}"
        for p in _PAYLOADS
        for a in ("autoclose", "close", "consumed", "write_with_length")
    ),
    # ClientRequest's constructor and update_*/send/write_bytes steps are aiohttp's request
    # pipeline; surge's ClientRequest is a plain value built by the session (request_class=
    # takes subclasses of surge's).
    *(
        f"aiohttp.ClientRequest({p})"
        for p in [
            "cookies",
            "data",
            "loop",
            "params",
            "proxy",
            "proxy_auth",
            "proxy_headers",
            "response_class",
            "session",
            "skip_auto_headers",
            "timer",
            "traces",
            "trust_env",
            "version",
        ]
    ),
    *(
        f"aiohttp.ClientRequest.{a}"
        for a in [
            "ALL_METHODS",
            "DEFAULT_HEADERS",
            "GET_METHODS",
            "POST_METHODS",
            "close",
            "connection_key",
            "host",
            "port",
            "response",
            "send",
            "skip_auto_headers",
            "terminate",
            "update_auth",
            "update_auto_headers",
            "update_body",
            "update_body_from_data",
            "update_content_encoding",
            "update_cookies",
            "update_expect_continue",
            "update_headers",
            "update_host",
            "update_proxy",
            "update_transfer_encoding",
            "update_version",
            "write_bytes",
        ]
    ),
    # Response and WebSocket constructors take aiohttp's protocol objects; sessions build them.
    *(
        f"aiohttp.ClientResponse({p})"
        for p in ["continue100", "session", "stream_writer", "timer", "traces", "writer"]
    ),
    "aiohttp.ClientResponse.start",  # reads the head off aiohttp's protocol
    *(
        f"aiohttp.ClientWebSocketResponse({p})"
        for p in ["client_notakeover", "compress", "loop", "reader", "response", "writer"]
    ),
    # web.Request/BaseRequest are built from aiohttp's parser message and payload writer.
    "aiohttp.web.BaseRequest(message)",
    "aiohttp.web.BaseRequest(payload_writer)",
    "aiohttp.web.BaseRequest.message",
    "aiohttp.web.Request(message)",
    "aiohttp.web.Request(payload_writer)",
    "aiohttp.web.Request.message",
    # web.RequestHandler is aiohttp's connection protocol; surge's protocol is its own.
    *(
        f"aiohttp.web.RequestHandler({p})"
        for p in [
            "access_log",
            "access_log_class",
            "access_log_format",
            "auto_decompress",
            "debug",
            "keepalive_timeout",
            "lingering_time",
            "logger",
            "loop",
            "manager",
            "max_field_size",
            "max_headers",
            "max_line_size",
            "read_bufsize",
            "tcp_keepalive",
            "timeout_ceil_threshold",
        ]
    ),
    *(
        f"aiohttp.web.RequestHandler.{a}"
        for a in [
            "access_log",
            "access_logger",
            "close",
            "connected",
            "debug",
            "finish_response",
            "force_close",
            "handle_error",
            "keep_alive",
            "keepalive_timeout",
            "log_access",
            "log_debug",
            "log_exception",
            "logger",
            "max_field_size",
            "max_headers",
            "max_line_size",
            "peername",
            "set_parser",
            "shutdown",
            "sockname",
            "ssl_context",
            "start",
            "writing_paused",
        ]
    ),
    "aiohttp.web.RequestHandler.resume_reading(resume_parser)",
    # web.Server's protocol callbacks and Application's router/handler factory internals.
    "aiohttp.web.Server.connection_lost(exc)",
    "aiohttp.web.Server.connection_lost(handler)",
    "aiohttp.web.Server.connection_made(handler)",
    "aiohttp.web.Server.connection_made(transport)",
    "aiohttp.web.Server.pre_shutdown",
    # Route matching regexes and hooks of aiohttp's resource classes.
    "aiohttp.web.DynamicResource.DYN",
    "aiohttp.web.DynamicResource.DYN_WITH_RE",
    "aiohttp.web.DynamicResource.GOOD",
    "aiohttp.web.PrefixedSubAppResource.raw_match(prefix)",
    "aiohttp.web.StaticResource.raw_match(prefix)",
    # StreamReader's timer and chunk-size knobs belong to aiohttp's protocol.
    "aiohttp.StreamReader(timer)",
    "aiohttp.StreamReader.set_read_chunk_size",
}

# Deprecated in aiohttp and deliberately left out.
_DEPRECATED = {
    # Application.loop / make_handler: deprecated since 3.x (use AppRunner); surge has neither.
    "<aiohttp.web.Application>.loop",
    "<aiohttp.web.Application>.make_handler",
}

# Windows only: NamedPipeConnector raises on other platforms before using its options.
_PLATFORM = {
    f"aiohttp.NamedPipeConnector({p})"
    for p in ["force_close", "keepalive_timeout", "limit", "limit_per_host", "loop"]
}

# Known gaps, not yet implemented (each is real aiohttp API; remove the line when done).
_TODO: set[str] = set()

NOT_SUPPORTED = _INTERNALS | _DEPRECATED | _PLATFORM | _TODO


def test_data_is_aiohttp_3_14() -> None:
    assert DATA["aiohttp_version"].startswith("3.14")
    assert len(DATA["classes"]) == 200


def test_no_gap_beyond_the_allow_list() -> None:
    gaps = class_gaps() | instance_gaps()
    new = sorted(gaps - NOT_SUPPORTED)
    assert new == [], f"surge lacks aiohttp API not in NOT_SUPPORTED: {new}"


def test_allow_list_has_no_stale_entries() -> None:
    gaps = class_gaps() | instance_gaps()
    filled = sorted(NOT_SUPPORTED - gaps)
    assert filled == [], f"surge now has these; delete them from NOT_SUPPORTED: {filled}"


def test_the_brief_s_gaps_are_closed() -> None:
    # The parameters and attributes this module was written for stay implemented even if
    # someone widens the allow-list by mistake.
    closed = {
        *(
            f"aiohttp.ClientSession({p})"
            for p in [
                "fallback_charset_resolver",
                "response_class",
                "request_class",
                "ws_response_class",
                "json_serialize_bytes",
                "ssl_shutdown_timeout",
                "conn_timeout",
                "read_timeout",
            ]
        ),
        "<aiohttp.ClientSession>.requote_redirect_url",
        "<aiohttp.ClientSession>.loop",
        "<aiohttp.ClientSession>.version",
        *(
            f"aiohttp.TCPConnector({p})"
            for p in [
                "socket_factory",
                "fingerprint",
                "verify_ssl",
                "ssl_context",
                "ssl_shutdown_timeout",
            ]
        ),
        "aiohttp.TCPConnector.allowed_protocol_schema_set",
        "aiohttp.ClientWebSocketResponse.client_notakeover",
        "aiohttp.web.Application(client_max_fields)",
        "aiohttp.web.Request.client_max_fields",
        "aiohttp.web.UrlDispatcher.index_resource",
        "aiohttp.web.UrlDispatcher.unindex_resource",
        "aiohttp.web.UrlDispatcher.post_init",
        # aiohttp 3.13/3.14 additions implemented by the compat3 branch.
        "<aiohttp.CookieJar>.update_cookies_from_headers",
        "<aiohttp.CookieJar>.host_only_cookies",
        "<aiohttp.CookieJar>.treat_as_secure_origin",
        "aiohttp.DummyCookieJar.update_cookies_from_headers",
        "aiohttp.MultipartReader(max_field_size)",
        "aiohttp.MultipartReader(max_headers)",
        "aiohttp.MultipartReader(client_max_size)",
        "aiohttp.MultipartReader.from_response",
        "aiohttp.BodyPartReader.decode_iter",
        "aiohttp.StreamReader.total_raw_bytes",
        "aiohttp.StreamReader.total_compressed_bytes",
        "aiohttp.ClientResponse.upload_complete",
        "aiohttp.ClientResponse.output_size",
        "aiohttp.web.StaticResource.VERSION_KEY",
        "aiohttp.web.Application(router)",
    }
    assert closed & (class_gaps() | instance_gaps() | NOT_SUPPORTED) == set()
