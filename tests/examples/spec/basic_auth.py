# Spec "Authentication/Authorization Patterns", the Basic Auth part and its helper. Fixed to run:
# Python 2's `.decode('base64')` becomes base64.b64decode(...).decode(). (The JWT part needs
# PyJWT and a key the example does not give; see test_spec_server.py.)
import base64
from aiohttp import web
# Basic Auth Middleware
@web.middleware
async def basic_auth_middleware(request: web.Request, handler: web.Handler) -> web.Response:
    """Basic authentication middleware."""
    # Skip auth for public paths
    if request.path.startswith('/public'):
        return await handler(request)
    # Get authorization header
    auth = request.headers.get('Authorization')
    if not auth:
        return web.Response(
            'Unauthorized',
            headers={'WWW-Authenticate': 'Basic realm="Login"'}
        )
    # Parse Basic auth
    try:
        username, password = base64.b64decode(auth.split(' ')[1]).decode().split(':')
    except:
        return web.Response(
            'Unauthorized',
            headers={'WWW-Authenticate': 'Basic realm="Login"'}
        )
    # Verify credentials
    if not verify_credentials(username, password):
        return web.Response(
            'Unauthorized',
            headers={'WWW-Authenticate': 'Basic realm="Login"'}
        )
    # Attach user to request
    request['user'] = {'username': username}
    return await handler(request)
def verify_credentials(username: str, password: str) -> bool:
    """Verify username/password (use database in production)."""
    # Replace with actual authentication logic
    return username == 'admin' and password == 'secret'
