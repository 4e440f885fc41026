# Spec "Web Server / Application Factory", verbatim; security_middleware, api_handler and
# create_database_pool, which the example assumes, are defined minimally first.
from aiohttp import web
@web.middleware
async def security_middleware(request, handler):  # assumed
    response = await handler(request)
    response.headers['X-Content-Type-Options'] = 'nosniff'
    response.headers['X-Frame-Options'] = 'DENY'
    return response
async def api_handler(request):  # assumed
    return web.json_response({"db": request.app['db']['dsn']})
def create_database_pool():  # assumed
    return {'dsn': 'postgresql://localhost/app'}
def create_app():
    """Application factory pattern."""
    app = web.Application()
    # Add middleware
    app.middlewares.append(security_middleware)
    # Add routes
    app.router.add_get('/api', api_handler)
    # Store shared data
    app['db'] = create_database_pool()
    return app
# Create and run
app = create_app()
web.run_app(app)
