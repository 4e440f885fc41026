# Spec "Troubleshooting / Memory Leaks with Long-Running Sessions", verbatim but for the imports
# the example assumes (`import aiohttp`, `from aiohttp import web`); https://example.com is
# replaced by a local server when the test loads it.
import aiohttp
from aiohttp import web
# 1. Always use async with for responses
# ❌ BAD
async def bad_handler(request):
    session = aiohttp.ClientSession()
    response = await session.get('https://example.com')
    data = await response.json()
    return web.Response(text=str(data))
# ✅ GOOD
async def good_handler(request):
    async with aiohttp.ClientSession() as session:
        async with session.get('https://example.com') as response:
            data = await response.json()
            return web.Response(text=str(data))
# 2. Clean up application resources
async def on_cleanup(app):
    """Clean up database connections, caches, etc."""
    if 'db_pool' in app:
        await app['db_pool'].close()
    if 'cache' in app:
        await app['cache'].close()
# 3. Monitor memory usage
import os, resource
async def memory_monitor(request):
    try:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        mem_mb = usage.ru_maxrss / 1024 # Convert to MB (Linux)
        return web.Response(text=f"Memory: {mem_mb:.2f} MB")
    except:
        return web.Response(text="Memory monitoring not available")
# 4. Use garbage collection
import gc
def setup_gc(app):
    """Run garbage collection periodically."""
    @web.middleware
    async def gc_middleware(request, handler):
        response = await handler(request)
        # Run GC for long-running requests
        if request.path.startswith('/api/'):
            gc.collect()
        return response
    app.middlewares.append(gc_middleware)
# 5. Close WebSocket connections properly
async def websocket_handler(request):
    ws = web.WebSocketResponse()
    await ws.prepare(request)
    try:
        async for msg in ws:
            await ws.send_str(f"Echo: {msg.data}")
    finally:
        # Ensure cleanup
        await ws.close()
    return ws
