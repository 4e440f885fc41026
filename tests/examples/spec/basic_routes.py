# Spec "Routing / Basic Routes", verbatim.
from aiohttp import web
app = web.Application()
# Different HTTP methods
async def get_handler(request):
    return web.Response(text="GET request")
async def post_handler(request):
    data = await request.post()
    return web.json_response({"received": dict(data)})
async def put_handler(request):
    data = await request.json()
    return web.json_response({"updated": data})
async def delete_handler(request):
    return web.Response(text="Deleted")
# Add routes
app.router.add_get('/resource', get_handler)
app.router.add_post('/resource', post_handler)
app.router.add_put('/resource', put_handler)
app.router.add_delete('/resource', delete_handler)
# Or use @view decorator
@web.view('/items')
class ItemView(web.View):
    async def get(self):
        return web.json_response({"items": []})
    async def post(self):
        data = await self.request.json()
        return web.json_response({"created": data}, status=201)
