"""Shipped weights: they load, and (slow) still reach the PSNR recorded in their cards."""

import pytest
import torch

import stablerecon as sr
from stablerecon.train.trainer import TrainConfig, evaluate, validation_set

TRAINED = [n for n in sr.nets.available() if sr.nets.card(n).get("weights")]


@pytest.mark.parametrize("name", TRAINED)
def test_card_is_complete_and_model_runs(name):
    card = sr.nets.card(name)
    for key in ("train_command", "config", "data_recipe", "training_time_s", "validation",
                "operator", "architecture"):
        assert key in card, key
    model = sr.nets.load(name)
    A = sr.nets.operator_for(name)
    x = sr.data.random_ellipses(A.in_shape[0], count=1, seed=5)[0]
    y = A(x.to(A.input_dtype(torch.float32)))
    with torch.no_grad():
        assert model(y).shape[-2:] == A.in_shape


@pytest.mark.slow
@pytest.mark.parametrize("name", TRAINED)
def test_shipped_weights_reach_the_recorded_psnr(name):
    card = sr.nets.card(name)
    cfg = TrainConfig(**card["config"])
    x, y = validation_set(cfg, sr.nets.operator_for(name))
    got = evaluate(sr.nets.load(name), x, y)
    assert got["psnr"] == pytest.approx(card["validation"]["psnr"], abs=0.1)
