# Spec "Templates / Template Filters", verbatim but for `app = web.Application()` (assumed).
from aiohttp import web
import aiohttp_jinja2
import jinja2
app = web.Application()
env = aiohttp_jinja2.Environment(
    loader=jinja2.FileSystemLoader('templates')
)
# Custom filter
@env.template_filter('uppercase')
def uppercase(s):
    return s.upper()
# Use in template: {{ name|uppercase }}
aiohttp_jinja2.setup(app, environment=env)
