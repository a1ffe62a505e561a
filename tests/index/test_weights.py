"""The safetensors reader of the NumPy forward pass: mapped float32 views, other floats converted."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from index.embed.numpy_bert import load_weights


def test_weights_are_the_files_tensors_as_float32(tmp_path: Path) -> None:
    from safetensors.numpy import load_file, save_file

    rng = np.random.default_rng(7)
    tensors = {"a.weight": rng.standard_normal((5, 3)).astype(np.float32),
               "b.bias": rng.standard_normal(4).astype(np.float16),
               "c.ids": np.arange(6, dtype=np.int64).reshape(2, 3),
               "d.scalar": np.array(2.5, dtype=np.float64)}
    path = tmp_path / "model.safetensors"
    save_file(tensors, str(path), metadata={"format": "np"})
    loaded = load_weights(path)
    assert sorted(loaded) == ["a.weight", "b.bias", "d.scalar"]  # the integer tensor (position ids) is left out
    reference = load_file(str(path))
    for name, array in loaded.items():
        assert array.dtype == np.float32 and array.shape == reference[name].shape
        assert np.array_equal(array, reference[name].astype(np.float32)), name
    assert not loaded["a.weight"].flags.owndata  # float32: a view of the mapped file, not a copy
    assert np.array_equal(loaded["a.weight"].T @ np.ones(5, np.float32), tensors["a.weight"].T @ np.ones(5, np.float32))
