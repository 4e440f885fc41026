# Spec "Routing / Resource Routes", verbatim; get_handler/post_handler come from the spec's
# "Basic Routes" example and are defined minimally here.
from aiohttp import web
async def get_handler(request):
    return web.Response(text="GET request")
async def post_handler(request):
    return web.Response(text="POST request")
app = web.Application()
# Using resource
resource = app.router.add_resource('/api', name='api')
resource.add_get(get_handler)
resource.add_post(post_handler)
# Reverse URL generation
url = app.router['api'].url_for()
print(str(url)) # /api
# With path parameters
resource = app.router.add_resource('/users/{user_id}', name='user_detail')
url = app.router['user_detail'].url_for(user_id=42)
print(str(url)) # /users/42
