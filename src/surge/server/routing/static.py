"""StaticResource: ``router.add_static(prefix, directory)`` serves the files under a directory.

Invariants (each has a test in tests/static/):
- A request never reaches a file outside the directory's resolved path: ``..`` segments
  (also when sent as ``%2e%2e`` or behind ``%2f``), backslashes and NUL bytes are refused
  with 403; the resolved target must lie inside the root whatever ``follow_symlinks`` says.
- With ``follow_symlinks=False`` no symlink under the root is followed (404); with ``True``
  symlinks are followed, but only to targets that stay inside the root.
- Only regular files are served; directories only as an escaped listing with ``show_index``.
"""

from __future__ import annotations

import base64
import hashlib
import html
import os
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from yarl import URL

from surge.server.exceptions import HTTPForbidden, HTTPNotFound
from surge.server.fileresponse import FileResponse
from surge.server.full_response import Response
from surge.server.response import StreamResponse
from surge.server.routing.match import UrlMappingMatchInfo
from surge.server.routing.resources import AbstractResource, Handler, ResourceRoute

if TYPE_CHECKING:
    from surge.server.request import Request

__all__ = ["StaticResource"]

_ALLOWED = frozenset({"GET", "HEAD"})


class StaticResource(AbstractResource):
    """Files under ``directory`` at URLs below ``prefix`` (``/static/css/site.css``)."""

    VERSION_KEY = "v"
    """The query key of ``append_version`` URLs (``/static/site.css?v=<content hash>``)."""

    def __init__(
        self,
        prefix: str,
        directory: str | os.PathLike[str],
        *,
        name: str | None = None,
        expect_handler: Handler | None = None,
        chunk_size: int = 256 * 1024,
        show_index: bool = False,
        follow_symlinks: bool = False,
        append_version: bool = False,
    ) -> None:
        super().__init__(name=name)
        given = Path(directory).expanduser()
        try:
            root = given.resolve(strict=True)
        except (FileNotFoundError, RuntimeError) as exc:
            raise ValueError(f"No directory exists at '{given}'") from exc
        if not root.is_dir():
            raise ValueError(f"No directory exists at '{given}'")
        self._directory = root
        self._root = str(root)
        self._prefix = prefix
        self._index_key = prefix or "/"
        self._chunk_size = chunk_size
        self._show_index = show_index
        self._follow_symlinks = follow_symlinks
        self._append_version = append_version
        self._versions: dict[str, tuple[int, int, str]] = {}
        self._routes = {
            method: ResourceRoute(
                method, self._handle, expect_handler=expect_handler, resource=self
            )
            for method in ("GET", "HEAD")
        }

    # AbstractResource ------------------------------------------------------------------------

    @property
    def canonical(self) -> str:
        return self._prefix

    @property
    def directory(self) -> Path:
        return self._directory

    def add_prefix(self, prefix: str) -> None:
        assert prefix.startswith("/") and not prefix.endswith("/")
        self._prefix = prefix + self._prefix
        self._index_key = self._prefix

    def raw_match(self, path: str) -> bool:
        return False

    def get_info(self) -> dict[str, Any]:
        return {"directory": self._directory, "prefix": self._prefix, "routes": self._routes}

    def set_options_route(self, handler: Handler) -> None:
        if "OPTIONS" in self._routes:
            raise RuntimeError("OPTIONS route was set already")
        self._routes["OPTIONS"] = ResourceRoute("OPTIONS", handler, resource=self)

    def __len__(self) -> int:
        return len(self._routes)

    def __iter__(self) -> Iterator[ResourceRoute]:
        return iter(self._routes.values())

    def __repr__(self) -> str:
        name = f"'{self.name}' " if self.name is not None else ""
        return f"<StaticResource {name} {self._prefix} -> {self._directory!r}>"

    def _resolve(self, method: str, path: str) -> tuple[UrlMappingMatchInfo | None, set[str]]:
        prefix = self._prefix
        if not path.startswith(prefix) or path[len(prefix) : len(prefix) + 1] != "/":
            return None, set()
        allowed = set(self._routes)
        route = self._routes.get(method)
        if route is None:
            return None, allowed
        return UrlMappingMatchInfo({"filename": path[len(prefix) + 1 :]}, route), allowed

    async def resolve(self, request: Request) -> tuple[UrlMappingMatchInfo | None, set[str]]:
        return self._resolve(request.method, request.path)

    # URLs ------------------------------------------------------------------------------------

    def url_for(  # type: ignore[override]
        self, *, filename: str | os.PathLike[str], append_version: bool | None = None
    ) -> URL:
        """The URL of ``filename``; with ``append_version`` a content hash as ``?v=...``
        (caches may then keep the file forever: a new version gets a new URL)."""
        if append_version is None:
            append_version = self._append_version
        name = str(filename).replace(os.sep, "/").lstrip("/")
        url = URL.build(path=f"{self._prefix}/{name}", encoded=False)
        if append_version:
            version = self._version_of(name)
            if version is not None:
                url = url.with_query({self.VERSION_KEY: version})
        return url

    def _version_of(self, name: str) -> str | None:
        try:
            path = self._safe_path(name)
            st = path.stat()
        except (_Refused, OSError):
            return None
        if not stat.S_ISREG(st.st_mode):
            return None
        key = str(path)
        cached = self._versions.get(key)
        if cached is not None and cached[:2] == (st.st_mtime_ns, st.st_size):
            return cached[2]
        digest = hashlib.sha256()
        with path.open("rb") as file:
            while block := file.read(1 << 16):
                digest.update(block)
        version = base64.urlsafe_b64encode(digest.digest()).decode("ascii").rstrip("=")
        self._versions[key] = (st.st_mtime_ns, st.st_size, version)
        return version

    # serving ---------------------------------------------------------------------------------

    def _safe_path(self, name: str) -> Path:
        """The file for the decoded ``name`` under the root, or :class:`_Refused`."""
        if "\x00" in name or "\\" in name:
            raise _Refused(403)
        parts = [part for part in name.split("/") if part and part != "."]
        if ".." in parts:
            raise _Refused(403)
        root = self._directory
        joined = root.joinpath(*parts)
        resolved = Path(os.path.realpath(joined))
        # Never a file outside the root's resolved path, whatever follow_symlinks says (aiohttp
        # lets follow_symlinks=True leave the root; surge does not). Links that stay inside
        # the root are served in both modes, as aiohttp serves them.
        if resolved != root and not resolved.is_relative_to(root):
            raise _Refused(403 if not parts else 404)
        return resolved

    def _locate(self, name: str) -> tuple[str, os.stat_result]:
        """The resolved path of the decoded ``name`` under the root and its ``stat``.

        The common case costs one ``lstat`` per component below the root (the root itself is
        resolved once, at start-up): when none is a symlink the joined path is already the
        resolved one. A symlink sends the path through ``realpath`` and the containment check.
        """
        if "\x00" in name or "\\" in name:
            raise _Refused(403)
        parts = [part for part in name.split("/") if part and part != "."]
        if ".." in parts:
            raise _Refused(403)
        path = self._root
        if not parts:
            return path, os.stat(path)
        st: os.stat_result | None = None
        for part in parts:
            path = f"{path}/{part}" if path != "/" else f"/{part}"
            st = os.lstat(path)
            if stat.S_ISLNK(st.st_mode):
                resolved = str(self._safe_path(name))
                return resolved, os.stat(resolved)
        assert st is not None
        return path, st

    async def _handle(self, request: Request) -> StreamResponse:
        name = request.match_info["filename"]
        try:
            path, st = self._locate(name)
        except _Refused as exc:
            raise (HTTPForbidden() if exc.status == 403 else HTTPNotFound()) from None
        except (FileNotFoundError, NotADirectoryError):
            raise HTTPNotFound() from None
        except (PermissionError, OSError):
            raise HTTPForbidden() from None
        mode = st.st_mode
        if stat.S_ISREG(mode):
            return FileResponse(path, chunk_size=self._chunk_size)
        if stat.S_ISDIR(mode):
            if self._show_index:
                return self._directory_index(Path(path), name)
            raise HTTPForbidden()
        raise HTTPForbidden()  # FIFOs, sockets and devices are never opened

    def _directory_index(self, path: Path, name: str) -> StreamResponse:
        rel = "/".join(part for part in name.split("/") if part and part != ".")
        base = f"{self._prefix}/{rel}/" if rel else f"{self._prefix}/"
        title = html.escape(f"Index of /{rel}")
        try:
            entries = sorted(os.scandir(path), key=lambda entry: entry.name)
        except OSError:
            raise HTTPForbidden() from None
        items = []
        for entry in entries:
            if not self._follow_symlinks and entry.is_symlink():
                continue
            label = entry.name + ("/" if entry.is_dir() else "")
            href = quote(base + label, safe="/")
            items.append(f'<li><a href="{html.escape(href)}">{html.escape(label)}</a></li>')
        body = (
            f"<html>\n<head>\n<title>{title}</title>\n</head>\n<body>\n<h1>{title}</h1>\n"
            f"<ul>\n{chr(10).join(items)}\n</ul>\n</body>\n</html>"
        )
        return Response(text=body, content_type="text/html")


class _Refused(Exception):
    def __init__(self, status: int) -> None:
        super().__init__(status)
        self.status = status
