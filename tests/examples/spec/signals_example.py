# Spec "Advanced / Signals", verbatim but for `app = web.Application()` (assumed). Run as a script:
# web.run_app serves on port 8080 until SIGINT; the post-signal registration after run_app returns
# comes too late (the app ran and its signals are frozen), see test_spec_server.py.
from aiohttp import web
from aiohttp import signals as signals
app = web.Application()
# Pre-signal handlers
async def pre_signal_handler(app, services):
    print("Pre-signal handler")
app.signal(signals.pre_shutdown).append(pre_signal_handler)
# Post-signal handlers
async def post_signal_handler(app):
    print("Post-signal")
web.run_app(app, print=lambda x: None)
app.signal(web.Signals.POST_SIGNALS).append(post_signal_handler)
