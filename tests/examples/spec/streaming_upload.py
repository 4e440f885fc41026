# Spec "Performance / Streaming", verbatim.
from aiohttp import web
async def upload_handler(request):
    """Handle streaming upload."""
    reader = request.content
    with open('uploaded.file', 'wb') as f:
        while True:
            chunk = await reader.read(1024 * 1024) # 1MB chunks
            if not chunk:
                break
            f.write(chunk)
    return web.Response(text="Uploaded")
