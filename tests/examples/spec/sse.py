# Spec "Server-Sent Events". Fixed to run: `import json` (used, not imported); the 1 s sleep
# shortened to 0.01 s. The un-awaited `response.write(...)` is kept as written.
import json
from aiohttp import web
import asyncio
async def sse_handler(request):
    """Server-Sent Events handler."""
    response = web.StreamResponse()
    response.headers['Content-Type'] = 'text/event-stream'
    response.headers['Cache-Control'] = 'no-cache'
    response.headers['Connection'] = 'keep-alive'
    await response.prepare(request)
    try:
        for i in range(10):
            # Send event
            data = json.dumps({"count": i})
            response.write(f"data: {data}\n\n".encode())
            await response.drain()
            await asyncio.sleep(0.01)
    finally:
        await response.write_eof()
    return response
