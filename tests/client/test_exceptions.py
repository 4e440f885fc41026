"""The exception hierarchy matches aiohttp's (names and bases, recorded by introspection)."""

from __future__ import annotations

import json
import pathlib
import ssl

import pytest

import surge
from surge.client.exceptions import ConnectionKey

EXPECTED = json.loads((pathlib.Path(__file__).parent / "aiohttp_exceptions.json").read_text())


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_same_name_and_bases_as_aiohttp(name: str) -> None:
    cls = getattr(surge, name)
    assert [b.__name__ for b in cls.__mro__[1:]] == EXPECTED[name]


def test_connector_error_carries_host_port_and_os_error() -> None:
    key = ConnectionKey("example.org", 8080, False, None, None)
    err = surge.ClientConnectorError(key, ConnectionRefusedError(111, "Connection refused"))
    assert (err.host, err.port) == ("example.org", 8080)
    assert err.errno == 111
    assert isinstance(err.os_error, ConnectionRefusedError)
    assert "Cannot connect to host example.org:8080" in str(err)
    assert "Connection refused" in str(err)


def test_certificate_error_is_an_ssl_error() -> None:
    key = ConnectionKey("h", 443, True, None, None)
    cause = ssl.SSLCertVerificationError("certificate verify failed")
    err = surge.ClientConnectorCertificateError(key, cause)
    assert isinstance(err, ssl.SSLError) and isinstance(err, surge.ClientConnectorError)
    assert err.certificate_error is cause


def test_response_error_fields() -> None:
    err = surge.ClientResponseError(None, (), status=404, message="Not Found", headers={"A": "b"})
    assert (err.status, err.message, err.headers) == (404, "Not Found", {"A": "b"})
    assert str(err).startswith("404, message='Not Found'")


def test_invalid_url_is_a_value_error() -> None:
    err = surge.InvalidUrlClientError("nope", "no host")
    assert isinstance(err, ValueError) and err.url == "nope"
    assert str(err) == "nope - no host"
