# Spec "Routing / Route Lifecycle", verbatim.
from aiohttp import web
async def on_request_start(request):
    """Called when request starts."""
    print(f"Request started: {request.method} {request.path}")
async def on_request_match(request, mapping):
    """Called when route is matched."""
    print(f"Matched route: {mapping}")
app = web.Application()
app.on_request_start.append(on_request_start)
app.on_request_match.append(on_request_match)
