# Spec "Performance / Keepalive". Fixed to run: the module-level `async with` is wrapped in
# `async def client_keepalive()` (top-level await is not Python); `import aiohttp` added.
import aiohttp
from aiohttp import web
# Keep connections alive
app = web.Application(
    client_max_cache_size=1000 # Cache size for connections
)
# Client keepalive
async def client_keepalive():
    async with aiohttp.ClientSession() as session:
        # Connections are reused automatically
        for _ in range(100):
            async with session.get('https://api.example.com/data'):
                pass
