# Spec "Request Handling / Request Properties", verbatim.
from aiohttp import web
async def handler(request):
    # Method
    print(request.method) # GET, POST, etc.
    # URL
    print(request.url) # yarl.URL object
    print(request.url.path) # /path
    print(request.url.query) # query string
    # Version
    print(request.version) # (1, 1)
    # Cookies
    print(request.cookies) # SimpleCookie
    # Content type
    print(request.content_type) # application/json
    # Can read body
    print(request.can_read_body)
    # Payload
    print(request.payload) # StreamReader
    return web.Response(text="OK")
