"""Image specs: one text names one image (or, in lists, several)."""

import numpy as np
import pytest

from stablerecon.data.specs import expand, image
from stablerecon.errors import StableReconError


def test_expand_folders_and_the_brain_test_split(tmp_path):
    np.save(tmp_path / "b.npy", np.ones((8, 8)))
    np.save(tmp_path / "a.npy", np.ones((8, 8)))
    (tmp_path / "notes.txt").write_text("not an image")
    specs = expand(["phantom", str(tmp_path), "brain:test", "phantom"])
    assert specs[0] == "phantom" and specs.count("phantom") == 1
    assert specs[1:3] == [str(tmp_path / "a.npy"), str(tmp_path / "b.npy")]
    assert specs[3:] == [f"brain:{k}" for k in range(95, 105)]


def test_expand_refuses_an_empty_folder(tmp_path):
    with pytest.raises(StableReconError, match="no readable image"):
        expand([str(tmp_path)])


@pytest.mark.parametrize("spec", ["phantom", "ellipses:3:0.2", "brain:97", "camera"])
def test_each_spec_gives_an_image_of_the_shape(spec):
    x = image(spec, (48, 48))
    assert x.shape == (48, 48) and float(x.abs().max()) > 0


def test_a_file_is_resized(tmp_path):
    np.save(tmp_path / "x.npy", np.random.default_rng(0).random((20, 30)))
    assert image(str(tmp_path / "x.npy"), (16, 16)).shape == (16, 16)


@pytest.mark.parametrize("spec, words", [("ellipses:x", "ellipses:SEED"),
                                         ("brain:top", "held-out"),
                                         ("brain:3", "not a held-out"),
                                         ("no-such-image", "unknown bundled image")])
def test_bad_specs_are_named(spec, words):
    with pytest.raises(StableReconError, match=words):
        image(spec, (32, 32))
