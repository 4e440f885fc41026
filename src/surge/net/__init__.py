"""asyncio binding: protocols, transports, flow control, timeouts, TLS, streams."""
