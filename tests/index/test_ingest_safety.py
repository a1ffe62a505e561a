"""Ingest edge cases from the reliability list, and a short fuzz of the loaders and the config parser."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from index.errors import ConfigError
from index.ingest.loaders import load
from index.ingest.pdf import extract_pages
from index.ingest.sources import Found, discover
from index.records import Document, Skipped
from tests.pdfgen import make_pdf

# The suite runs a short fuzz; a long one: RAG_FUZZ_EXAMPLES=20000 pytest tests/index/test_ingest_safety.py
FUZZ = int(os.environ.get("RAG_FUZZ_EXAMPLES", "200"))


def test_link_leaving_the_folder_is_skipped(tmp_path: Path) -> None:
    outside = tmp_path / "secret.txt"
    outside.write_text("Una password che non va indicizzata.\n")
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "ok.txt").write_text("Testo normale da indicizzare.\n")
    (docs / "escape.txt").symlink_to(outside)
    (docs / "elsewhere").symlink_to(tmp_path, target_is_directory=True)
    found, skipped = discover([str(docs)])
    assert [f.path.name for f in found] == ["ok.txt"]
    reasons = {Path(s.path).name: s.reason for s in skipped}
    assert "leaves the indexed folder" in reasons["escape.txt"]
    assert "leaves the indexed folder" in reasons["elsewhere"]


def test_unreadable_file_is_skipped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "locked.txt"
    path.write_text("Contenuto.\n")
    found = discover([str(path)])[0][0]
    if os.geteuid() != 0:  # as a normal user, real permissions; root reads anything, so simulate it
        path.chmod(0)
    else:
        def deny(self: Path) -> bytes:
            raise PermissionError(13, "Permission denied", str(self))

        monkeypatch.setattr(Path, "read_bytes", deny)
    result = load(found)
    assert isinstance(result, Skipped) and "Permission denied" in result.reason


@pytest.mark.slow  # a PDF child process
def test_pdf_parser_runs_under_a_time_limit(tmp_path: Path) -> None:
    pdf = tmp_path / "slow.pdf"
    pdf.write_bytes(make_pdf(["Testo."]))
    assert extract_pages(str(pdf)) == ["Testo."]
    reason = extract_pages(str(pdf), wall_seconds=0.001)
    assert isinstance(reason, str) and "took over" in reason


@settings(max_examples=FUZZ, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(max_size=2000), suffix=st.sampled_from([".txt", ".md", ".html"]))
def test_fuzz_text_loaders(tmp_path: Path, data: bytes, suffix: str) -> None:
    path = tmp_path / f"fuzz{suffix}"
    path.write_bytes(data)
    found = Found(path=path, kind=suffix[1:], size=len(data), mtime=0.0)
    result = load(found)  # never raises: a Document or a Skipped with a reason
    assert isinstance(result, Document | Skipped)
    if isinstance(result, Skipped):
        assert result.reason


@settings(max_examples=max(25, FUZZ // 8), deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(min_size=1, max_size=600))
@pytest.mark.slow  # a PDF child process per example
def test_fuzz_pdf_loader(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "fuzz.pdf"
    path.write_bytes(b"%PDF-1.4\n" + data)
    result = load(Found(path=path, kind="pdf", size=len(data), mtime=0.0))
    assert isinstance(result, Document | Skipped)


@settings(max_examples=FUZZ, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.one_of(st.binary(max_size=300), st.text(max_size=300).map(str.encode),
                      st.sampled_from([b"top_k = 'x'\n", b"chunk_size = -3\n", b"mode = 3\n", b"bogus = 1\n",
                                       b"top_k = 0\n", b"\xff\xfe"])))
def test_fuzz_config_parser(tmp_path: Path, data: bytes) -> None:
    from rag.config.settings import Settings

    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    (home / "config.toml").write_bytes(data)
    try:
        Settings.load(home=home).check()
    except ConfigError as exc:  # the only way it may fail, with a message
        assert str(exc)


@pytest.mark.slow  # runs `rag` in a process
def test_a_corpus_of_every_bad_file_builds_and_lists_them(tmp_path: Path) -> None:
    import json
    import subprocess
    import sys

    from tests.conftest import ROOT
    from tests.index.test_sources import make_bad_corpus

    docs = tmp_path / "docs"
    expected = make_bad_corpus(docs)
    (docs / "escape.txt").symlink_to(tmp_path / "outside.txt")
    (tmp_path / "outside.txt").write_text("fuori\n")
    (docs / "blank.pdf").write_bytes(make_pdf([""]))
    (docs / "broken.pdf").write_bytes(b"%PDF-1.4 not really")
    with open(os.fsencode(docs) + b"/nome\xff.txt", "wb") as fh:
        fh.write(b"Un file dal nome non UTF-8 ma dal contenuto valido.\n")
    env = {**os.environ, "RAG_HOME": str(tmp_path / "home")}
    proc = subprocess.run([sys.executable, "-m", "rag", "--embedder", "hash", "index", "build", str(docs),
                           "--max-file-mb", "0.002", "--json"], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert report["files_indexed"] == 2  # good.txt and the file with the undecodable name
    skipped = {Path(s["path"]).name: s["reason"] for s in report["skipped"]}
    for name in [*expected, "escape.txt", "blank.pdf", "broken.pdf"]:
        assert name in skipped, (name, skipped)
    text = subprocess.run([sys.executable, "-m", "rag", "--embedder", "hash", "index", "info"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=60)
    assert text.returncode == 0 and "Skipped at the last build: 11 file(s)" in text.stdout, text.stdout
