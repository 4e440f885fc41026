# Spec "Request Handling / Reading Request Data", verbatim.
from aiohttp import web
async def handle_request(request):
    # Query parameters
    query = request.query # ImmutableMultiDict
    page = request.query.get('page', '1')
    page = int(page)
    # Multiple values
    tags = request.query.getall('tag')
    # POST form data
    data = await request.post()
    username = data.get('username')
    password = data.get('password')
    # JSON body
    json_data = await request.json()
    # Raw body
    body = await request.read()
    # Headers
    auth_header = request.headers.get('Authorization')
    content_type = request.content_type
    # Remote info
    remote = request.remote
    host = request.host
    # Match info (path parameters)
    user_id = request.match_info.get('user_id')
    return web.json_response({
        "query": dict(query),
        "data": json_data
    })
