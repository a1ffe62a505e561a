"""Word frequencies stored with the index: the same Zipf values wordfreq gives, read without loading it."""

from __future__ import annotations

from pathlib import Path

import pytest

from index.text.frequency import RARE_ZIPF, Frequencies, general_zipf, write_tables


def test_stored_table_gives_wordfreqs_values(tmp_path: Path) -> None:
    write_tables(tmp_path / "freq", ["it", "xx"])  # "xx": a language wordfreq lacks is skipped
    assert sorted(p.name for p in (tmp_path / "freq").iterdir()) == ["it.words.npy", "it.zipf.npy"]
    table = Frequencies(tmp_path / "freq")
    for word in ("anno", "dipendenti", "chip", "fatturato", "di"):
        assert table.zipf(word, "it") == pytest.approx(general_zipf(word, "it"), abs=0.051), word
    # Below the stored floor, unknown, or too long to store: as rare as wordfreq says an unknown word is.
    for word in ("zzqxwv", "bytedance", "x" * 40):
        assert table.zipf(word, "it") == RARE_ZIPF == general_zipf("zzqxwv", "it")
    # A language with no stored table asks wordfreq itself.
    assert table.zipf("year", "en") == general_zipf("year", "en") > 5


def test_a_previous_generations_tables_are_copied_not_made_again(tmp_path: Path) -> None:
    import numpy as np

    old = tmp_path / "old"
    old.mkdir()
    np.save(old / "it.words.npy", np.array([b"anno"], dtype="S24"), allow_pickle=False)
    np.save(old / "it.zipf.npy", np.array([99], dtype=np.uint8), allow_pickle=False)  # not wordfreq's value
    write_tables(tmp_path / "new", ["it", "en"], reuse=old)
    assert Frequencies(tmp_path / "new").zipf("anno", "it") == 9.9  # copied from the previous generation
    assert Frequencies(tmp_path / "new").zipf("year", "en") == pytest.approx(general_zipf("year", "en"), abs=0.051)
