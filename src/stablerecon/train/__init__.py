"""Training the learned reconstructors (``stablerecon train``)."""

from stablerecon.train.trainer import NETWORKS, TrainConfig, train

__all__ = ["NETWORKS", "TrainConfig", "train"]
