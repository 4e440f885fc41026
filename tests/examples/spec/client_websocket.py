# Spec "Client / Client WebSocket", verbatim; wss://example.com/ws is replaced by a local server
# when the test loads it.
import aiohttp
async def websocket_client():
    async with aiohttp.ClientSession() as session:
        async with session.ws_connect('wss://example.com/ws') as ws:
            # Send message
            await ws.send_str('Hello')
            await ws.send_json({'type': 'message', 'data': 'test'})
            # Receive message
            msg = await ws.receive()
            if msg.type == aiohttp.WSMsgType.TEXT:
                text = msg.data
            elif msg.type == aiohttp.WSMsgType.BINARY:
                data = msg.data
            elif msg.type == aiohttp.WSMsgType.ERROR:
                print(f"Error: {ws.exception()}")
            # Ping/Pong
            await ws.ping()
            # Close
            await ws.close()
