# Spec "Advanced / Lifespan Context", verbatim; create_db_pool and create_cache, which the example
# assumes, are defined minimally first.
from aiohttp import web
class _Resource:
    def __init__(self, name):
        self.name, self.closed = name, False
    async def close(self):
        self.closed = True
        print(f"closed {self.name}")
async def create_db_pool():  # assumed
    return _Resource("db")
async def create_cache():  # assumed
    return _Resource("cache")
@web.lifespanContext
async def lifespan(app):
    """Context manager for application lifespan."""
    # Startup
    app['db'] = await create_db_pool()
    app['cache'] = await create_cache()
    yield
    # Shutdown
    await app['cache'].close()
    await app['db'].close()
app = web.Application(lifespan=lifespan)
