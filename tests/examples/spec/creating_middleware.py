# Spec "Middleware / Creating Middleware", verbatim; verify_token, logging_middleware and
# error_middleware, which the example assumes, are defined minimally first.
from aiohttp import web
async def verify_token(auth_header):  # assumed: accepts one demo token
    return auth_header == "Bearer good-token"
@web.middleware
async def logging_middleware(request, handler):  # assumed
    return await handler(request)
@web.middleware
async def error_middleware(request, handler):  # assumed
    return await handler(request)
@web.middleware
async def auth_middleware(request, handler):
    """Authentication middleware."""
    # Skip auth for certain paths
    if request.path.startswith('/public'):
        return await handler(request)
    # Check auth
    auth_header = request.headers.get('Authorization')
    if not auth_header:
        return web.HTTPUnauthorized(text="No auth header")
    # Verify token
    if not await verify_token(auth_header):
        return web.HTTPForbidden(text="Invalid token")
    # Continue to handler
    return await handler(request)
# Add to app
app = web.Application(middlewares=[auth_middleware])
# Multiple middleware (applied in order)
app = web.Application(
    middlewares=[
        logging_middleware,
        auth_middleware,
        error_middleware
    ]
)
