"""The benchmark application, built identically on surge and on aiohttp."""
