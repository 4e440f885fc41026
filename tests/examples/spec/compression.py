# Spec "Performance / Compression". Fixed to run: the module-level `async with` is wrapped in
# `async def fetch_compressed()` (top-level await is not Python); `import aiohttp` added.
import aiohttp
from aiohttp import web
# Server handles compression automatically
# Client requests compressed content
async def fetch_compressed():
    async with aiohttp.ClientSession() as session:
        async with session.get(
            'https://api.example.com/data',
            headers={'Accept-Encoding': 'gzip, deflate'}
        ) as response:
            pass
