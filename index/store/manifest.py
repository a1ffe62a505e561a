"""The manifest of a generation: every file's size and SHA-256, written last and checked on open,
so that a truncated or garbled file is reported, never read as an empty result."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from index.errors import IndexCorruptError

FULL_CHECK_BYTES = 64 * 1024 * 1024  # files up to this size are checksummed on every open; larger by size


def sha256_file(path: Path | str) -> str:
    """The SHA-256 of a file, read in 1 MiB blocks (the manifest's, and a cited file's freshness check)."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def write_manifest(folder: Path) -> None:
    files = sorted(p for p in folder.rglob("*") if p.is_file())
    entries = {str(p.relative_to(folder)): {"size": p.stat().st_size, "sha256": sha256_file(p)} for p in files}
    (folder / "manifest.json").write_text(json.dumps(entries, indent=1))


def verify_manifest(folder: Path) -> None:
    """Raise IndexCorruptError unless every file the manifest names is there, whole and unchanged."""
    try:
        entries = json.loads((folder / "manifest.json").read_text())
    except (OSError, ValueError) as exc:
        raise IndexCorruptError(f"index manifest in {folder} is missing or unreadable") from exc
    for name, expected in entries.items():
        path = folder / name
        try:
            size = path.stat().st_size
        except OSError:
            raise IndexCorruptError(f"index file {path} is missing") from None
        if size != expected["size"]:
            raise IndexCorruptError(f"index file {path} is {size} bytes, expected {expected['size']} "
                                    f"(truncated?)")
        if size <= FULL_CHECK_BYTES and sha256_file(path) != expected["sha256"]:
            raise IndexCorruptError(f"index file {path} does not match its checksum (damaged)")


def fsync_tree(folder: Path) -> None:
    for path in folder.rglob("*"):
        if path.is_file():
            with open(path, "rb") as fh:
                os.fsync(fh.fileno())
    fsync_dir(folder)


def fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
