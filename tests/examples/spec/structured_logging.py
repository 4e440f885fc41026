# Spec "Middleware / Common Middleware Patterns", the structured logging setup, verbatim.
import logging
from aiohttp import web
def setup_logging(app):
    """Configure structured logging for aiohttp."""
    formatter = logging.Formatter(
        '%(asctime)s - %(name)s - %(levelname)s - %(message)s',
        datefmt='%Y-%m-%d %H:%M:%S'
    )
    # File handler
    file_handler = logging.FileHandler('app.log')
    file_handler.setFormatter(formatter)
    # Console handler with JSON formatting
    console_handler = logging.StreamHandler()
    json_formatter = logging.Formatter('%(message)s')
    console_handler.setFormatter(json_formatter)
    logging.basicConfig(
        level=logging.INFO,
        handlers=[file_handler, console_handler]
    )
