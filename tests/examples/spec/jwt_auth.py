# Spec "Authentication/Authorization Patterns", the JWT part. Fixed to run: jwt.decode is called
# without a key, which PyJWT refuses; both calls now pass JWT_SECRET (defined first, minimally) as
# the key. Nothing else changed.
JWT_SECRET = 'a-test-secret-of-at-least-32-bytes!'  # assumed
from aiohttp import web
import jwt
import time
from typing import Optional, Dict, Callable
# JWT Token Validation Middleware
@web.middleware
async def jwt_auth_middleware(request: web.Request, handler: web.Handler) -> web.Response:
    """JWT authentication middleware."""
    # Skip auth for public endpoints
    public_paths = ['/public/*', '/health']
    if any(request.path.startswith(p) for p in public_paths):
        return await handler(request)
    # Get token from Authorization header
    auth_header = request.headers.get('Authorization', '')
    if not auth_header.startswith('Bearer '):
        return web.json_response(
            {"error": "Missing Authorization header"},
            status=401
        )
    token = auth_header[7:] # Remove 'Bearer ' prefix
    try:
        # Decode and verify JWT token
        payload = jwt.decode(
            token,
            JWT_SECRET,
            options={"verify_exp": True}, # Verify expiration
            algorithms=["HS256"], # Your algorithm
            audience="your-audience"
        )
        # Attach user data to request for handlers
        request['user'] = payload
        return await handler(request)
    except jwt.ExpiredSignatureError:
        return web.json_response(
            {"error": "Token expired"},
            status=401
        )
    except jwt.InvalidTokenError:
        return web.json_response(
            {"error": "Invalid token"},
            status=403
        )
# Helper functions
def verify_token(token: str) -> bool:
    """Verify JWT token (implementation depends on your setup)."""
    try:
        jwt.decode(token, JWT_SECRET, options={"verify_exp": True}, algorithms=["HS256"])
        return True
    except:
        return False
