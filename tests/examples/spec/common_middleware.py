# Spec "Middleware / Common Middleware Patterns" (up to the logging setup, stored separately).
# Fixed to run: `logger`, is_rate_limited and increment_rate_limit, which the example assumes, are
# defined minimally first (at most 3 requests per client address).
import logging
logger = logging.getLogger('spec.requests')  # assumed
_counts = {}  # assumed
async def is_rate_limited(ip):  # assumed
    return _counts.get(ip, 0) >= 3
async def increment_rate_limit(ip):  # assumed
    _counts[ip] = _counts.get(ip, 0) + 1
from aiohttp import web
import time
# Request logging middleware
@web.middleware
async def log_middleware(request, handler):
    start = time.time()
    response = await handler(request)
    duration = time.time() - start
    # Structured logging
    logger.info(
        "HTTP request completed",
        extra={
            "method": request.method,
            "path": request.path,
            "status": response.status,
            "duration": duration,
            "remote_ip": request.remote,
        }
    )
    return response
# CORS middleware
@web.middleware
async def cors_middleware(request, handler):
    response = await handler(request)
    response.headers['Access-Control-Allow-Origin'] = '*'
    response.headers['Access-Control-Allow-Methods'] = 'GET, POST, PUT, DELETE'
    response.headers['Access-Control-Allow-Headers'] = 'Content-Type, Authorization'
    return response
# Rate limiting middleware
@web.middleware
async def rate_limit_middleware(request, handler):
    ip = request.remote
    if await is_rate_limited(ip):
        return web.HTTPTooManyRequests(text="Rate limited")
    await increment_rate_limit(ip)
    return await handler(request)
