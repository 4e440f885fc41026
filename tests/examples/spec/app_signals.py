# Spec "Advanced / Application Signals", verbatim; create_db_pool, which the example assumes, is
# defined minimally first.
from aiohttp import web
class _Pool:
    closed = False
    async def close(self):
        self.closed = True
async def create_db_pool():  # assumed
    return _Pool()
async def on_startup(app):
    """Called on startup."""
    print("Application starting")
    app['db'] = await create_db_pool()
async def on_cleanup(app):
    """Called on cleanup."""
    print("Application cleaning up")
    await app['db'].close()
async def on_shutdown(app):
    """Called on shutdown."""
    print("Application shutting down")
app = web.Application()
app.on_startup.append(on_startup)
app.on_cleanup.append(on_cleanup)
app.on_shutdown.append(on_shutdown)
