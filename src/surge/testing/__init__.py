"""surge's test tooling: servers on loopback sockets, a test client, mocked requests, and the
pytest plugin. The public names are re-exported by :mod:`surge.test_utils` (aiohttp's module name).
"""
