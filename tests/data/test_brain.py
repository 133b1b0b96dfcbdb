"""Brain slices of the MNI152 template: the split keeps a guard band, the data are real
anatomy, the augmentations are seeded."""

import pytest
import torch

from stablerecon.data import brain
from stablerecon.errors import StableReconError


def test_split_is_disjoint_with_a_guard_band():
    train, test = brain.split_indices("train"), brain.split_indices("test")
    assert test == list(range(95, 105))
    assert min(abs(a - b) for a in train for b in test) > brain.GUARD
    assert len(train) >= 100


def test_slices_are_real_anatomy_scaled_to_one():
    x = brain.brain_slices(64, "test")
    assert x.shape == (10, 64, 64) and x.dtype == torch.float32
    assert torch.allclose(x.amax(dim=(-2, -1)), torch.ones(10))
    assert bool((x >= 0).all())
    brain_share = (x > 0.1).float().mean(dim=(-2, -1))
    assert bool(((brain_share > 0.3) & (brain_share < 0.8)).all())  # a head, not noise
    # neighbouring slices are similar, distant ones are not
    assert (x[0] - x[1]).norm() < 0.5 * (x[0] - x[9]).norm()


def test_batches_are_seeded_and_augmented():
    a = brain.brain_batch(32, 4, seed=3)
    b = brain.brain_batch(32, 4, seed=3)
    c = brain.brain_batch(32, 4, seed=4)
    assert torch.equal(a, b) and not torch.equal(a, c)
    train = brain.brain_slices(32, "train")
    nearest = min(float((a[0] - t).norm()) for t in train)
    assert nearest > 0  # augmented: not a copy of a training slice


def test_bad_arguments_are_named():
    with pytest.raises(StableReconError, match="orientation"):
        brain.split_indices("train", "oblique")
    with pytest.raises(StableReconError, match="split"):
        brain.split_indices("validation")
    with pytest.raises(StableReconError, match="size"):
        brain.brain_slices(4)


def test_one_held_out_slice_is_its_row_of_the_test_block():
    rows = brain.brain_slices(32, "test")
    one = torch.as_tensor(brain.held_out_slice(97, 32), dtype=torch.float32)
    torch.testing.assert_close(one, rows[2])
    with pytest.raises(StableReconError, match="not a held-out axial slice"):
        brain.held_out_slice(50)
