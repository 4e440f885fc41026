# Spec "Response / Response Types". Fixed to run: `import json` and `import asyncio`, which the
# example uses without importing; the stream's 0.1 s sleep shortened to 0.01 s.
import asyncio
import json
from aiohttp import web
async def text_response(request):
    return web.Response(
        text="Plain text",
        content_type="text/plain"
    )
async def json_response(request):
    return web.json_response(
        {"message": "JSON data"},
        dumps=lambda x: json.dumps(x, indent=2)
    )
async def bytes_response(request):
    return web.Response(
        body=b"Binary data",
        content_type="application/octet-stream"
    )
async def stream_response(request):
    """Streaming response for large files."""
    response = web.StreamResponse()
    response.headers['Content-Type'] = 'text/plain'
    await response.prepare(request)
    for i in range(10):
        await response.write(f"Line {i}\n".encode())
        await response.drain()
        await asyncio.sleep(0.01)
    await response.write_eof()
    return response
async def file_response(request):
    """Serve a file."""
    response = web.FileResponse('path/to/file.txt')
    response.headers['Content-Disposition'] = 'attachment; filename="file.txt"'
    return response
