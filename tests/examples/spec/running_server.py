# Spec "Web Server / Running Server". Fixed to run: `logger` and `ssl_context`, which the example
# assumes, are defined first (an access logger printing to stderr; a server context loading the
# certificate chain named by $SPEC_CERT_CHAIN). The three run_app calls run one after the other,
# each until SIGINT.
import logging
import os
import ssl
logging.basicConfig(level=logging.INFO, format='%(name)s: %(message)s')  # assumed
logger = logging.getLogger('access')  # assumed
ssl_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)  # assumed
ssl_context.load_cert_chain(os.environ['SPEC_CERT_CHAIN'])  # assumed
from aiohttp import web
# Basic run
app = web.Application()
web.run_app(app)
# With configuration
web.run_app(
    app,
    host='0.0.0.0',
    port=8080,
    access_log=logger,
    shutdown_timeout=60,
    ssl_context=ssl_context,
    print=lambda x: print(x.strip())
)
# From coroutine
async def init_app():
    app = web.Application()
    app.router.add_get('/', lambda request: web.Response(text="OK"))
    return app
web.run_app(init_app())
