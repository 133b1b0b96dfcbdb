"""Sweep configurations: TOML files, paths relative to the file, clear refusals."""

import pytest

from stablerecon.errors import StableReconError
from stablerecon.sweep import SweepConfig, cells, from_mapping, load_config


def test_toml_paths_are_read_relative_to_the_file(tmp_path):
    (tmp_path / "scan.npy").write_bytes(b"")
    (tmp_path / "study.toml").write_text(
        'models = ["mri-cascade"]\nimages = ["scan.npy", "phantom"]\nout = "results"\n'
        "budgets = [0.01]\nseeds = [0, 1]\n")
    cfg = load_config(tmp_path / "study.toml")
    assert cfg.images == (str(tmp_path / "scan.npy"), "phantom")
    assert cfg.out == tmp_path / "results"
    assert cfg.models == ("mri-cascade",) and cfg.seeds == (0, 1) and cfg.budgets == (0.01,)


@pytest.mark.parametrize("settings, words", [
    ({"models": [], "images": ["phantom"]}, "models is empty"),
    ({"models": "mri-cascade", "images": ["phantom"]}, "must be a list"),
    ({"models": ["m"], "images": ["phantom"], "budgets": [0.01, -1]}, "positive finite number"),
    ({"models": ["m"], "images": ["phantom"], "budgets": [float("nan")]}, "positive finite number"),
    ({"models": ["m"], "images": ["phantom"], "tests": ["fuzz"]}, "unknown sweep test"),
    ({"models": ["m"], "images": ["phantom"], "steps": 0}, "steps must be an integer"),
    ({"models": ["m"], "images": ["phantom"], "seeds": [0.5]}, "seeds must be ints"),
    ({"models": ["m"], "images": ["phantom"], "phi_tol": 2}, "phi_tol"),
    ({"models": ["m"], "images": ["phantom"], "budget": [0.1]}, "unknown sweep setting"),
    ({"images": ["phantom"]}, "needs ['models']"),
])
def test_bad_settings_are_named(settings, words):
    with pytest.raises(StableReconError, match=words.replace("[", r"\[").replace("]", r"\]")):
        from_mapping(settings)


def test_missing_and_malformed_files(tmp_path):
    with pytest.raises(StableReconError, match="does not exist"):
        load_config(tmp_path / "nope.toml")
    (tmp_path / "bad.toml").write_text("models = [\n")
    with pytest.raises(StableReconError, match="not valid TOML"):
        load_config(tmp_path / "bad.toml")


def test_the_product_of_cells():
    cfg = SweepConfig(models=["a", "b"], images=["phantom", "brain:test"],
                      tests=["instability", "kernel"], budgets=[0.01, 0.02], seeds=[0, 1])
    plan = cells(cfg)
    # 2 models × 11 images × (2 budgets + kernel without one) × 2 seeds
    assert len(plan) == 2 * 11 * 3 * 2
    assert len({c.key() for c in plan}) == len(plan)
    assert {c.budget for c in plan if c.test == "kernel"} == {None}
    assert sum(c.image.startswith("brain:") for c in plan) == 2 * 10 * 3 * 2


def test_a_cells_key_follows_the_bytes_of_its_files(tmp_path):
    """A changed weights file (or card, or image) makes a new key: its cells run again."""
    (tmp_path / "net.json").write_text('{"weights": "net.pt", "operator": {}}')
    (tmp_path / "net.pt").write_bytes(b"one")
    cfg = SweepConfig(models=[str(tmp_path / "net.json")], images=["phantom"],
                      tests=["kernel"])
    before = cells(cfg)[0].key()
    assert cells(cfg)[0].key() == before  # stable
    (tmp_path / "net.pt").write_bytes(b"two")
    assert cells(cfg)[0].key() != before
