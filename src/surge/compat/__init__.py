"""Running aiohttp programs unchanged on surge.

:mod:`surge.compat.alias` makes ``import aiohttp`` (and its submodules, and ``aiohttp_jinja2``)
resolve to surge; :mod:`surge.compat.aiohttp` holds the modules named like aiohttp's. The few
aiohttp names with no home elsewhere in surge (legacy payload classes, data queues, ...) are
implemented here, and re-exported by :mod:`surge` and :mod:`surge.web`.
"""
