# Spec "Templates / Jinja2 Integration", verbatim but for `app = web.Application()`, which the
# example assumes (run in a directory holding templates/index.html from the example's comment).
from aiohttp import web
import aiohttp_jinja2
import jinja2
app = web.Application()
# Setup
loader = jinja2.FileSystemLoader('templates')
env = aiohttp_jinja2.Environment(
    loader=loader,
    autoescape=True,
    enable_async=True
)
aiohttp_jinja2.setup(app, environment=env)
# Use in handler
@aiohttp_jinja2.template('index.html')
async def index(request):
    return {
        'title': 'My Page',
        'users': ['Alice', 'Bob', 'Charlie']
    }
