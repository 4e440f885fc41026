# Spec "Response / Basic Responses", verbatim (the first return wins, as in Python).
from aiohttp import web
async def handlers(request):
    # Text response
    return web.Response(text="Hello")
    # With status code
    return web.Response(text="Created", status=201)
    # JSON response
    return web.json_response({"key": "value"})
    # With headers
    return web.json_response(
        {"data": "test"},
        headers={"X-Custom": "value"}
    )
    # Redirect
    return web.HTTPFound('/new-location')
    # Error responses
    return web.HTTPUnauthorized(
        headers={'WWW-Authenticate': 'Basic realm="Login"'}
    )
