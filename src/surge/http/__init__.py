"""Sans-IO protocol core: bytes in, events out; events in, bytes out. No asyncio here."""
