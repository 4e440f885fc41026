"""Command line: ``surge run module:app`` and ``python -m surge.web module:factory``.

``surge run`` serves an Application, a factory (called with the extra command-line arguments
when it takes one, as aiohttp's ``init_func(argv)``) or a coroutine function returning an
Application. ``--workers N`` forks N processes sharing the port; ``--reload`` restarts the
server when a ``.py`` file under the current directory changes.
"""

from __future__ import annotations

import argparse
import importlib
import inspect
import logging
import os
import socket
import sys
from collections.abc import Awaitable, Sequence
from typing import Any

from surge.server.app import Application
from surge.server.reload import Reloader
from surge.server.run import run_app
from surge.server.workers import Supervisor, watch_parent

__all__ = ["CliError", "load_app", "main", "web_main"]


class CliError(Exception):
    """A command-line mistake; the message is shown to the user."""


def _import_target(spec: str) -> Any:
    module_name, sep, attr = spec.partition(":")
    if not sep or not module_name or not attr:
        raise CliError(f"{spec!r} is not in 'module:attribute' syntax")
    if module_name.startswith("."):
        raise CliError("relative module names are not supported")
    if "" not in sys.path and os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())  # as `python -m`, serve modules of the current directory
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise CliError(f"unable to import {module_name}: {exc}") from exc
    target: Any = module
    for part in attr.split("."):
        try:
            target = getattr(target, part)
        except AttributeError:
            raise CliError(f"module {module_name!r} has no attribute {attr!r}") from None
    return target


def load_app(
    spec: str, argv: Sequence[str] = (), *, factory: bool = False
) -> Application | Awaitable[Application]:
    """The application named by ``module:attr``: an Application, or what a factory returns.

    A factory taking a parameter gets ``argv`` (a list); an async factory's coroutine is
    returned for ``run_app`` to await.
    """
    target = _import_target(spec)
    if isinstance(target, Application) and not factory:
        return target
    if inspect.isawaitable(target) and not factory:
        return target
    if not callable(target):
        raise CliError(f"{spec} is neither an Application nor a callable returning one")
    try:
        takes_argv = bool(inspect.signature(target).parameters)
    except (TypeError, ValueError):
        takes_argv = False
    result = target(list(argv)) if takes_argv else target()
    if isinstance(result, Application) or inspect.isawaitable(result):
        return result
    raise CliError(f"{spec} returned {result!r}, not an Application")


# surge run -----------------------------------------------------------------------------------


def _run_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="surge", description="surge: serve an application")
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="serve module:app")
    run.add_argument("app", help="module:attribute (an Application, factory or async factory)")
    run.add_argument("--host", default="127.0.0.1", help="interface to bind (127.0.0.1)")
    run.add_argument("--port", type=int, default=None, help="TCP port (8080)")
    run.add_argument("--path", default=None, help="also (or only, without --port) a Unix socket")
    run.add_argument("--workers", type=int, default=1, help="processes sharing the port (1)")
    run.add_argument("--reload", action="store_true", help="restart when a .py file changes")
    run.add_argument("--factory", action="store_true", help="call app even if not a function")
    run.add_argument("--certfile", default=None, help="TLS certificate (PEM)")
    run.add_argument("--keyfile", default=None, help="TLS private key (PEM)")
    run.add_argument("--shutdown-timeout", type=float, default=60.0)
    run.add_argument("--keepalive-timeout", type=float, default=75.0)
    run.add_argument("--no-access-log", action="store_true", help="do not log requests")
    run.add_argument(
        "--aiohttp",
        action="store_true",
        help="`surge run --aiohttp script.py [args]`: run an aiohttp script unchanged on surge",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``surge`` console script."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:2] == ["run", "--aiohttp"]:
        from surge.compat.alias import run_script

        run_script(argv[2:])  # the script runs itself (web.run_app); its args follow it
        return 0
    parser = _run_parser()
    args, extra = parser.parse_known_args(argv)
    if args.workers < 1:
        parser.error("--workers must be at least 1")
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    if args.reload:
        child = [sys.executable, "-m", "surge", *(a for a in argv if a != "--reload")]
        return Reloader(child).run()
    parent = os.environ.pop("SURGE_PARENT_PID", None)
    if parent is not None:
        watch_parent(int(parent))  # we are the reloader's child
    try:
        return _serve(args, extra)
    except CliError as exc:
        parser.error(str(exc))
    return 2  # pragma: no cover - parser.error exits


def _serve(args: argparse.Namespace, extra: list[str]) -> int:
    ssl_context = None
    if args.certfile:
        import ssl

        ssl_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ssl_context.load_cert_chain(args.certfile, args.keyfile)
    access_log = None if args.no_access_log else logging.getLogger("surge.access")
    options: dict[str, Any] = {
        "ssl_context": ssl_context,
        "shutdown_timeout": args.shutdown_timeout,
        "keepalive_timeout": args.keepalive_timeout,
        "access_log": access_log,
    }
    tcp = args.path is None or args.port is not None
    if args.port is None:
        args.port = 8080
    if args.workers == 1:
        app = load_app(args.app, extra, factory=args.factory)
        run_app(
            app,
            host=args.host if tcp else None,
            port=args.port if tcp else None,
            path=args.path,
            **options,
        )
        return 0
    return _serve_workers(args, extra, tcp, options)


def _serve_workers(
    args: argparse.Namespace, extra: list[str], tcp: bool, options: dict[str, Any]
) -> int:
    # Import (and fail) once in the parent; each worker builds its app from the factory.
    target = _import_target(args.app)
    del target
    held: list[socket.socket] = []
    port = args.port
    if tcp:
        # Reserve the port (resolving port 0) with a bound, non-listening SO_REUSEPORT socket:
        # it takes no connections, so the kernel balances among the workers' listeners.
        family = socket.AF_INET6 if ":" in args.host else socket.AF_INET
        reserve = socket.socket(family, socket.SOCK_STREAM)
        reserve.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        reserve.bind((args.host, port))
        port = reserve.getsockname()[1]
        held.append(reserve)
    unix_sock = None
    if args.path is not None:
        if os.path.exists(args.path):
            os.unlink(args.path)
        unix_sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        unix_sock.bind(args.path)
        unix_sock.listen(128)
        held.append(unix_sock)
    scheme = "https" if options["ssl_context"] else "http"
    names = [f"{scheme}://{args.host}:{port}"] if tcp else []
    if args.path is not None:
        names.append(f"{scheme}://unix:{args.path}:")
    print(
        f"======== Running on {', '.join(names)} ========\n"
        f"({args.workers} workers; press CTRL+C to quit)",
        flush=True,
    )

    def serve() -> None:
        for sock in held:
            if sock is not unix_sock:
                sock.close()
        run_app(
            load_app(args.app, extra, factory=args.factory),
            host=args.host if tcp else None,
            port=port if tcp else None,
            sock=unix_sock,
            reuse_port=tcp,
            print=None,
            **options,
        )

    try:
        return Supervisor(serve, args.workers, shutdown_timeout=args.shutdown_timeout).run()
    finally:
        for sock in held:
            sock.close()


# python -m surge.web -----------------------------------------------------------------------


def web_main(argv: Sequence[str] | None = None) -> None:
    """``python -m surge.web [-H host] [-P port] [-U path] module:factory [factory args]``.

    As ``python -m aiohttp.web``: the factory is called with the unparsed arguments (a list)
    and may be a coroutine function.
    """
    parser = argparse.ArgumentParser(prog="surge.web", description="surge.web Application server")
    parser.add_argument(
        "entry_func",
        metavar="entry-func",
        help="callable returning the web.Application to run, as 'module:function'",
    )
    parser.add_argument("-H", "--hostname", default="localhost", help="TCP/IP hostname")
    parser.add_argument("-P", "--port", type=int, default=8080, help="TCP/IP port")
    parser.add_argument("-U", "--path", default=None, help="Unix socket path")
    args, extra = parser.parse_known_args(sys.argv[1:] if argv is None else argv)
    try:
        target = _import_target(args.entry_func)
    except CliError as exc:
        parser.error(str(exc))
    if not callable(target):
        parser.error(f"{args.entry_func} is not callable")
    logging.basicConfig(level=logging.DEBUG)
    app = target(extra)
    if args.path is not None and not hasattr(socket, "AF_UNIX"):
        parser.error("file system paths not supported by your operating environment")
    run_app(app, host=args.hostname, port=args.port, path=args.path)
