"""The demo's live page: a WebSocket chat (every message goes to everyone) and an
EventSource clock, side by side."""

from __future__ import annotations

import asyncio
import time

from surge import web

CHATTERS = web.AppKey("chatters", set[web.WebSocketResponse])
TICK_SECONDS = 0.5

PAGE = """<!doctype html>
<title>surge live</title>
<h1>surge live</h1>
<h2>WebSocket chat</h2>
<form id=chat><input id=text autocomplete=off><button>Send</button></form>
<ul id=messages></ul>
<h2>Server-Sent Events</h2>
<ul id=events></ul>
<script>
const messages = document.getElementById("messages");
const eventsList = document.getElementById("events");
function add(list, text) {
  const li = document.createElement("li");
  li.textContent = text;
  list.appendChild(li);
}
const ws = new WebSocket(location.origin.replace(/^http/, "ws") + "/ws");
ws.onopen = () => { document.body.dataset.ws = "open"; };
ws.onmessage = (e) => add(messages, e.data);
document.getElementById("chat").onsubmit = (e) => {
  e.preventDefault();
  const input = document.getElementById("text");
  ws.send(input.value);
  input.value = "";
};
const source = new EventSource("/events");
source.addEventListener("tick", (e) => add(eventsList, `tick ${e.lastEventId}: ${e.data}`));
</script>
"""


async def live_page(request: web.Request) -> web.Response:
    return web.Response(text=PAGE, content_type="text/html")


async def chat(request: web.Request) -> web.WebSocketResponse:
    ws = web.WebSocketResponse(heartbeat=30)
    await ws.prepare(request)
    chatters = request.app[CHATTERS]
    chatters.add(ws)
    try:
        async for msg in ws:
            if msg.type == web.WSMsgType.TEXT:
                for peer in list(chatters):
                    if not peer.closed:
                        await peer.send_str(f"Echo: {msg.data}")
    finally:
        chatters.discard(ws)
    return ws


async def clock(request: web.Request) -> web.StreamResponse:
    async with web.sse_response(request) as events:
        start = int(events.last_event_id or 0)
        for n in range(start + 1, start + 10_000):
            await events.send(time.strftime("%H:%M:%S"), event="tick", id=str(n))
            await asyncio.sleep(TICK_SECONDS)
    return events


def add_live_routes(app: web.Application) -> None:
    app[CHATTERS] = set()
    app.router.add_get("/live", live_page)
    app.router.add_get("/ws", chat)
    app.router.add_get("/events", clock)
