"""The NumPy forward pass against sentence-transformers on the bundled model, and the cold path it enables."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from index.embed import SentenceTransformerEmbedder, default_model_path
from index.embed.numpy_bert import NumpyBert, _erf, supports
from tests.conftest import DATA, ROOT, SEEDS

TEXTS = [
    "Quanti chip Ascend 910B ha ordinato ByteDance?",
    "What is Coze?",
    "",
    "ByteDance ha ordinato 100.000 unità di questi chip per il 2023. " * 40,  # past 256 word pieces: cut
    "Émoji 🤖 e accenti: perché, città, naïve — “virgolette”.",
    "a",
]

pytestmark = pytest.mark.slow  # the real model, through NumPy and torch


@pytest.fixture(scope="module")
def torch_embedder() -> SentenceTransformerEmbedder:
    return SentenceTransformerEmbedder(numpy_max_texts=0)


def test_erf_matches_math_erf() -> None:
    import math

    x = np.linspace(-7, 7, 20001, dtype=np.float32)
    expected = np.array([math.erf(float(v)) for v in x])
    assert np.abs(_erf(x.copy()) - expected).max() < 1e-6


def test_same_vectors_as_sentence_transformers(torch_embedder: SentenceTransformerEmbedder) -> None:
    reference = torch_embedder.embed(TEXTS)
    ours = NumpyBert(default_model_path(), torch_embedder.max_tokens + 2).embed(TEXTS)
    assert ours.dtype == np.float32 and ours.shape == reference.shape
    assert np.abs(ours - reference).max() < 1e-5
    assert np.allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-5)


def test_batching_and_order_do_not_change_a_vector() -> None:
    model = NumpyBert(default_model_path(), 256)
    alone = np.stack([model.embed([t])[0] for t in TEXTS])
    together = model.embed(TEXTS[::-1], batch_size=3)[::-1]
    assert np.abs(alone - together).max() < 1e-6


def test_small_calls_skip_torch_and_large_ones_use_it() -> None:
    embedder = SentenceTransformerEmbedder(numpy_max_texts=4)
    embedder.embed(TEXTS[:2])
    assert "_model" not in embedder.__dict__  # sentence-transformers never loaded
    embedder.embed(TEXTS[:5])
    assert "_model" in embedder.__dict__


def test_supports_only_plain_bert_with_mean_pooling(tmp_path: Path) -> None:
    assert supports(default_model_path())
    folder = tmp_path / "model"
    (folder / "1_Pooling").mkdir(parents=True)
    source = default_model_path()
    for name in ("config.json", "modules.json", "1_Pooling/config.json"):
        (folder / name).write_text((source / name).read_text())
    (folder / "model.safetensors").write_bytes(b"")
    assert supports(folder)
    pooling = json.loads((source / "1_Pooling/config.json").read_text())
    (folder / "1_Pooling/config.json").write_text(json.dumps({**pooling, "pooling_mode_mean_tokens": False,
                                                                "pooling_mode_cls_token": True}))
    assert not supports(folder)
    config = json.loads((source / "config.json").read_text())
    (folder / "1_Pooling/config.json").write_text(json.dumps(pooling))
    (folder / "config.json").write_text(json.dumps({**config, "model_type": "xlm-roberta"}))
    assert not supports(folder)


def test_answers_are_the_same_with_and_without_torch(tmp_path: Path, torch_embedder) -> None:  # type: ignore[no-untyped-def]
    """The cold path (NumPy) and the torch path give the same answers, citations and confidence."""
    from rag.assistant import Assistant
    from rag.config.settings import Settings

    fast = Assistant(Settings(home=tmp_path), embedder=SentenceTransformerEmbedder())
    fast.build([str(SEEDS)])
    slow = Assistant(Settings(home=tmp_path), embedder=torch_embedder)
    questions = [json.loads(line)["question"] for line in (DATA / "seed_dev.jsonl").read_text().splitlines()
                 if line.strip()]
    assert len(questions) >= 5
    for question in questions:
        a, b = fast.ask(question), slow.ask(question)
        assert (a.text, a.abstained) == (b.text, b.abstained), question
        assert [c.hit.chunk.line_start for c in a.citations] == [c.hit.chunk.line_start for c in b.citations]
        assert a.confidence == pytest.approx(b.confidence, abs=1e-5)


def test_one_off_ask_does_not_import_torch(tmp_path: Path) -> None:
    """A fresh `rag ask` on an existing index answers without importing torch, sentence-transformers or
    wordfreq (its word frequencies are stored with the index), nor the web server."""
    env = {"RAG_HOME": str(tmp_path / "home"), "PATH": "/usr/bin:/bin"}
    build = subprocess.run([sys.executable, "-m", "rag", "index", "build", str(SEEDS)], env=env, cwd=ROOT,
                           capture_output=True, text=True, timeout=600)
    assert build.returncode == 0, build.stderr
    probe = ("import sys, runpy; sys.argv = ['rag', 'ask', '--json', 'Quanti chip ha ordinato ByteDance?']\n"
             "try:\n    runpy.run_module('rag', run_name='__main__')\nexcept SystemExit:\n    pass\n"
             "heavy = ('torch', 'sentence_transformers', 'transformers', 'wordfreq', 'starlette', 'uvicorn')\n"
             "print('HEAVY', sorted(m for m in heavy if m in sys.modules))")
    proc = subprocess.run([sys.executable, "-c", probe], env=env, cwd=ROOT, capture_output=True, text=True,
                          timeout=600)
    assert proc.returncode == 0, proc.stderr
    answer, heavy = proc.stdout.rsplit("HEAVY", 1)
    assert "100.000" in json.loads(answer)["answer"]
    assert heavy.strip() == "[]"
