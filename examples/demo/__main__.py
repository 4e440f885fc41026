from examples.demo.app import create_app
from surge import web

web.run_app(create_app(), host="127.0.0.1", port=8080)
