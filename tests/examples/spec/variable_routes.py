# Spec "Routing / Variable Routes". Fixed to run: the handlers are defined before the
# add_get/add_post calls that name them (Python needs the name bound first), and get_file and
# get_default_user, which the example assumes, are defined minimally.
from aiohttp import web
app = web.Application()
async def get_user(request):
    user_id = request.match_info['user_id']
    return web.json_response({"id": user_id, "name": "John"})
async def create_post(request):
    user_id = request.match_info['user_id']
    data = await request.json()
    return web.json_response({
        "user_id": user_id,
        "post": data
    }, status=201)
async def get_user_by_id(request):
    user_id = request.match_info['user_id'] # Already int
    return web.json_response({"id": user_id})
async def get_file(request):  # assumed by the example
    return web.json_response({"filename": request.match_info['filename']})
async def get_default_user(request):  # assumed by the example
    return web.json_response({"default_id": request.match_info['user_id']})
# Path parameters
app.router.add_get('/users/{user_id}', get_user)
app.router.add_post('/users/{user_id}/posts', create_post)
# With type conversion
app.router.add_get('/users/{user_id:int}', get_user_by_id)
app.router.add_get('/files/{filename:[a-zA-Z0-9_\\.]+}', get_file)
# Default value
app.router.add_get('/users/{user_id:int=1}', get_default_user)
