"""`rag` run as a subprocess, the way a user runs it, with the real model on the real seeds."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from rag.prompts import REFUSAL
from tests.conftest import DATA, ROOT, assert_one_line_error


@pytest.mark.slow  # runs `rag --help` in a process
def test_help_is_fast_and_does_not_import_torch() -> None:
    code = ("import sys; from rag.cli import main\n"
            "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
            "heavy = [m for m in ('torch', 'sentence_transformers', 'faiss', 'transformers') if m in sys.modules]\n"
            "print('HEAVY', heavy)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60).stdout
    assert "Quick start" in out and "HEAVY []" in out


def test_first_ask_builds_the_seed_index_and_cites(rag, home: Path) -> None:  # type: ignore[no-untyped-def]
    result = rag("ask", "Quante unità di chip ha ordinato ByteDance?")
    assert result.code == 0, result.err
    assert "100.000" in result.out and "[1]" in result.out
    assert "Sources:" in result.out and "bytedance_huawei_coze.txt:" in result.out
    assert "Built the default index" in result.err and (home / "indexes" / "default" / "CURRENT").exists()
    assert "Traceback" not in result.err


def test_ask_json_is_stable_and_abstains_honestly(rag) -> None:  # type: ignore[no-untyped-def]
    answer = rag("ask", "--json", "Con quale azienda rivaleggia Coze?")
    assert answer.code == 0, answer.err
    data = answer.json()
    assert data["abstained"] is False and "OpenAI" in data["answer"]
    cit = data["citations"][0]
    assert set(cit) >= {"n", "path", "lines", "char_span", "quote", "scores"}
    source = Path(cit["path"]).read_text(encoding="utf-8")
    assert source[cit["char_span"][0]:cit["char_span"][1]] == cit["quote"]
    assert data["sentences"][0]["citations"] == [1]

    refusal = rag("ask", "--json", "Qual è il fatturato annuo di ByteDance?")
    assert refusal.code == 0, refusal.err
    data = refusal.json()
    assert data["abstained"] is True and data["answer"] == REFUSAL and data["citations"]

    # The threshold moves from a flag or the environment; a bad value is one line.
    forced = rag("ask", "--json", "--min-confidence", "0", "Qual è il fatturato annuo di ByteDance?").json()
    assert forced["abstained"] is False and forced["confidence"] == data["confidence"]
    strict = rag("ask", "--json", "Con quale azienda rivaleggia Coze?", env={"RAG_MIN_CONFIDENCE": "9"}).json()
    assert strict["abstained"] is True
    assert_one_line_error(rag("ask", "Coze?", env={"RAG_MIN_CONFIDENCE": "alto"}))


def test_build_update_info_search(rag, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.md").write_text("# Treni\n\nIl treno Frecciarossa 1000 collega Milano e Roma in tre ore.\n")
    (docs / "b.txt").write_text("Il porto di Genova è il più trafficato d'Italia per le merci.\n")
    (docs / "bin.txt").write_bytes(b"\x00\x01")
    built = rag("index", "build", str(docs), "--json")
    assert built.code == 0, built.err
    report = built.json()
    assert report["files_indexed"] == 2 and report["skipped"][0]["reason"].startswith("binary")

    (docs / "b.txt").write_text("Il porto di Genova è stato ampliato nel 2020 con una nuova diga.\n")
    updated = rag("index", "update", "--json")
    assert updated.code == 0, updated.err
    assert updated.json()["files_reused"] == 1 and updated.json()["chunks_embedded"] == 1

    info = rag("index", "info", "--json")
    assert info.code == 0 and info.json()["files"] == 2 and info.json()["model"] == "all-MiniLM-L6-v2"
    found = rag("search", "Frecciarossa 1000", "--json")
    assert found.code == 0 and found.json()["hits"][0]["path"].endswith("a.md")
    text = rag("search", "diga Genova")
    assert "b.txt:1" in text.out and "bm25 #1" in text.out


def test_bad_input_is_one_line_and_keeps_the_index(rag, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    assert_one_line_error(rag("search", "anything"))  # no index yet
    assert_one_line_error(rag("ask", ""))
    (tmp_path / "ok.txt").write_text("Il Monte Bianco è alto 4808 metri.\n")
    assert rag("index", "build", str(tmp_path / "ok.txt"), "-q").code == 0
    before = rag("index", "info", "--json").json()
    assert_one_line_error(rag("index", "build", str(tmp_path / "missing")))
    assert_one_line_error(rag("index", "build", str(tmp_path / "*.pdf")))
    assert_one_line_error(rag("index", "build", str(tmp_path), "--chunk-size", "999"))
    assert_one_line_error(rag("eval", str(tmp_path / "ok.txt")))
    assert_one_line_error(rag("--embedding-model", str(tmp_path), "ask", "x"))
    assert_one_line_error(rag("ask"))
    after = rag("index", "info", "--json").json()
    assert after["location"] == before["location"] and after["chunks"] == before["chunks"]


def test_eval_on_seed_dev_is_all_right(rag, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "rows.jsonl"
    result = rag("eval", str(DATA / "seed_dev.jsonl"), "--json", "--out", str(out))
    assert result.code == 0, result.err
    figures = result.json()
    assert figures["answered_with_fact"] == 1.0 and figures["citation_correct"] == 1.0
    assert figures["abstained_when_unanswerable"] == 1.0
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(rows) == 7 and all({"id", "answer", "abstained", "citations"} <= set(r) for r in rows)


def test_chunk_settings_follow_the_index_unless_configured(rag, tmp_path: Path, home: Path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "a.txt").write_text("Il lago di Como è profondo 410 metri. " * 30)
    assert rag("index", "build", str(tmp_path), "--chunk-size", "64", "-q").code == 0
    assert rag("search", "Como").code == 0  # defaults follow the index
    assert rag("index", "update", "-q").code == 0
    (home / "config.toml").write_text("chunk_size = 128\n")
    refused = rag("search", "Como")
    assert_one_line_error(refused)
    assert "rag index build" in refused.err and refused.code == 4
