"""A static root with an outside secret, symlinks in and out, a FIFO and odd names."""

from __future__ import annotations

import os
from pathlib import Path

import pytest


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    root = tmp_path / "root"
    (root / "sub").mkdir(parents=True)
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "secret.txt").write_text("SECRET")
    (tmp_path / "secret.txt").write_text("SECRET")
    (root / "hello.txt").write_text("hello world\n")
    (root / "sub" / "page.html").write_text("<p>page</p>")
    (root / "<b>&x.txt").write_text("odd")
    (root / "big.bin").write_bytes(os.urandom(300_000))
    (root / "link_out").symlink_to(tmp_path / "outside" / "secret.txt")
    (root / "dir_out").symlink_to(tmp_path / "outside")
    (root / "link_in").symlink_to(root / "hello.txt")
    os.mkfifo(root / "fifo")
    return root
