"""``from aiohttp import signals`` (the spec's "Signals" section): names for ``app.signal()``.

``app.signal(signals.pre_shutdown).append(h)`` registers ``async def h(app, services)`` run
before ``on_shutdown``; ``signals.post_shutdown`` (``web.Signals.POST_SIGNALS``) handlers run after
``on_cleanup``. ``Signal`` is the list type of every application signal.
"""

from surge.server.signals import Signal, Signals, post_shutdown, pre_shutdown

__all__ = ["Signal", "Signals", "post_shutdown", "pre_shutdown"]
