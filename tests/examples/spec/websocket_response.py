# Spec "Response / WebSocket Response", verbatim but for `app = web.Application()`, which the
# example's last line assumes.
from aiohttp import web, WSMsgType
app = web.Application()
async def websocket_handler(request):
    """WebSocket handler."""
    ws = web.WebSocketResponse()
    await ws.prepare(request)
    try:
        async for msg in ws:
            if msg.type == WSMsgType.TEXT:
                text = msg.data
                # Echo back
                await ws.send_str(f"Echo: {text}")
            elif msg.type == WSMsgType.BINARY:
                await ws.send_bytes(msg.data)
            elif msg.type == WSMsgType.ERROR:
                print(f"WebSocket error: {ws.exception()}")
    finally:
        await ws.close()
    return ws
# Add route
app.router.add_get('/ws', websocket_handler)
