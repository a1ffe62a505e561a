"""Finding the files to index: paths, folders and globs in; regular, supported files out.

Anything that cannot be indexed is reported as `Skipped` with a reason instead of stopping the
build. Reading a file's contents is `loaders.py`'s job; this module only looks at names and stat.

Paths are made absolute as they are found (`~` expanded, `..` folded, links kept as named), and
`resolve` does the same to the sources an index records, so that `rag index update` and citations
work from any directory, whichever one the build ran in.
"""

from __future__ import annotations

import glob
import os
import stat
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from index.errors import SourceError
from index.records import Skipped

SUPPORTED = {".txt": "txt", ".md": "md", ".markdown": "md", ".html": "html", ".htm": "html", ".pdf": "pdf",
             ".docx": "docx", ".pptx": "pptx", ".xlsx": "xlsx", ".odt": "odt", ".epub": "epub"}
DEFAULT_MAX_BYTES = 50 * 1024 * 1024
_GLOB_CHARS = set("*?[")


def display(path: str | os.PathLike[str]) -> str:
    """A printable, storable form of a path, even when its name is not valid UTF-8."""
    return os.fsencode(path).decode("utf-8", "backslashreplace")


@dataclass(frozen=True)
class Found:
    """A regular file that looks indexable."""

    path: Path
    kind: str
    size: int
    mtime: float

    @property
    def name(self) -> str:
        return display(self.path)


def discover(inputs: Iterable[str], max_bytes: int = DEFAULT_MAX_BYTES) -> tuple[list[Found], list[Skipped]]:
    """Expand paths, folders and globs into indexable files, sorted, without duplicates.

    Raises SourceError when an input matches nothing at all, since that is almost always a typo.
    """
    found: dict[str, Found] = {}
    skipped: list[Skipped] = []
    for raw in inputs:
        for path in _expand(raw):
            for item in _walk(path, skipped):
                result = _check(item, max_bytes)
                if isinstance(result, Skipped):
                    skipped.append(result)
                else:
                    found.setdefault(str(result.path), result)
    return sorted(found.values(), key=lambda f: str(f.path)), skipped


def resolve(inputs: Iterable[str]) -> list[str]:
    """The sources as absolute paths or patterns, for an index to record (empty ones are left for
    `discover` to refuse)."""
    return [os.path.abspath(os.path.expanduser(raw)) if raw.strip() else raw for raw in inputs]


def shown(path: str, sources: Iterable[str]) -> str:
    """`path` as a person reads it, whatever the current directory: relative to the folder above the
    source it was found under (source `~/proj/docs` -> `docs/guide/a.md`; a file source -> its name), or
    "" when it lies under none."""
    for source in sources:
        root = source
        if _GLOB_CHARS & set(source):
            parts = source.split(os.sep)
            root = os.sep.join(parts[:next(i for i, part in enumerate(parts) if _GLOB_CHARS & set(part))]) or os.sep
        root = root.rstrip(os.sep) or os.sep
        if path == root:
            return os.path.basename(path)
        if path.startswith(root + os.sep) and os.path.isabs(root):
            return os.path.relpath(path, os.path.dirname(root))
    return ""


def _expand(raw: str) -> Iterator[Path]:
    """Yield the paths one user input names, absolute."""
    if not raw.strip():
        raise SourceError("an empty path was given; pass a file, folder or glob such as 'docs/**/*.md'")
    path = Path(os.path.abspath(os.path.expanduser(raw)))
    if os.path.lexists(path):
        yield path
        return
    if _GLOB_CHARS & set(raw):
        matches = sorted(glob.glob(str(path), recursive=True))
        if not matches:
            raise SourceError(f"no files match {raw!r}; check the pattern (use '**' to match subfolders)")
        for match in matches:
            yield Path(match)
        return
    raise SourceError(f"{raw}: no such file or folder; check the path")


def _walk(path: Path, skipped: list[Skipped]) -> Iterator[Path]:
    """Yield the files under `path`, skipping hidden folders and following links without looping."""
    if not path.is_dir():
        yield path
        return
    seen: set[tuple[int, int]] = set()
    root = os.path.realpath(path)
    for folder, dirs, files in os.walk(path, followlinks=True):
        st = os.stat(folder)
        if (st.st_dev, st.st_ino) in seen:
            skipped.append(Skipped(display(folder), "symlink loop (folder already visited)"))
            dirs[:] = []
            continue
        seen.add((st.st_dev, st.st_ino))
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and _inside(Path(folder) / d, root, skipped))
        for name in sorted(files):
            if not name.startswith(".") and _inside(Path(folder) / name, root, skipped):
                yield Path(folder) / name


def _inside(path: Path, root: str, skipped: list[Skipped]) -> bool:
    """False (and reported) for a link that leads out of the folder being indexed."""
    if not path.is_symlink():
        return True
    target = os.path.realpath(path)
    if target == root or target.startswith(root + os.sep):
        return True
    skipped.append(Skipped(display(path), f"link leaves the indexed folder (to {display(target)})"))
    return False


def _check(path: Path, max_bytes: int) -> Found | Skipped:
    """Decide from the name and stat alone whether a file can be read."""
    name = display(path)
    kind = SUPPORTED.get(path.suffix.lower())
    if kind is None:
        return Skipped(name, f"unsupported file type {path.suffix or '(none)'!r}; supported: "
                             + ", ".join(sorted(set(SUPPORTED))))
    try:
        st = os.stat(path)
    except OSError as exc:
        if exc.errno == 40:  # ELOOP
            return Skipped(name, "symlink loop")
        if path.is_symlink():
            return Skipped(name, "broken symlink")
        return Skipped(name, f"cannot stat: {exc.strerror}")
    if not stat.S_ISREG(st.st_mode):
        mode = st.st_mode
        what = "FIFO" if stat.S_ISFIFO(mode) else "socket" if stat.S_ISSOCK(mode) else "device or special file"
        return Skipped(name, f"not a regular file ({what})")
    if st.st_size > max_bytes:
        return Skipped(name, f"over the size limit ({st.st_size:,} > {max_bytes:,} bytes)")
    if st.st_size == 0:
        return Skipped(name, "empty file")
    return Found(path=path, kind=kind, size=st.st_size, mtime=st.st_mtime)
