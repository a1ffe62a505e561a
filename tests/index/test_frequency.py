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
