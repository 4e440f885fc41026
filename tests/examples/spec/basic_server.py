# Spec "Web Server / Basic Server", verbatim.
from aiohttp import web
async def handle_request(request):
    """Simple request handler."""
    return web.Response(text="Hello, World!")
app = web.Application()
app.router.add_get('/', handle_request)
if __name__ == '__main__':
    web.run_app(app, host='127.0.0.1', port=8080)
