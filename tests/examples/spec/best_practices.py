# Spec "Best Practices" (Session Management, Connection Settings, Error Handling), verbatim but
# for what the examples assume: the imports, `app`, `url` and `logger` are defined first. The
# module-level TCPConnector/ClientSession run outside an event loop, which aiohttp 3.14 refuses
# ("no running event loop") and surge allows (they bind to the loop on first use).
import logging
import aiohttp
from aiohttp import web
app = web.Application()  # assumed
url = 'https://api.example.com/data'  # assumed
logger = logging.getLogger('spec.best_practices')  # assumed
# Session Management
# ❌ BAD: Create session per request
async def bad_handler(request):
    session = aiohttp.ClientSession()
    async with session.get(url) as response:
        return response
# ✅ GOOD: Reuse single session
async def setup(app):
    app['session'] = aiohttp.ClientSession()
async def cleanup(app):
    await app['session'].close()
app.on_startup.append(setup)
app.on_cleanup.append(cleanup)
async def good_handler(request):
    session = request.app['session']
    async with session.get(url) as response:
        return response
# Connection Settings
# Optimize TCP connector
connector = aiohttp.TCPConnector(
    limit=100, # Total connection limit
    limit_per_host=30, # Per-host limit
    ttl_dns_cache=300, # DNS cache TTL
    ssl=True,
    keepalive_timeout=30, # Keep connections alive
)
session = aiohttp.ClientSession(connector=connector)
# Error Handling
# Always handle exceptions
async def safe_request(url):
    try:
        async with session.get(url) as response:
            response.raise_for_status() # Raise on 4xx/5xx
            return await response.json()
    except aiohttp.ClientError as e:
        logger.error(f"Request failed: {e}")
        return None
    finally:
        # Ensure response is closed
        pass # async with handles this
