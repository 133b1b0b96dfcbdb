"""Training the learned reconstructors (``stablerecon train``)."""

from stablerecon.train.trainer import NETWORKS, TrainConfig, train

__all__ = ["NETWORKS", "TrainConfig", "train"]

from stablerecon.train.evaluate import compare_with_standard  # noqa: E402

__all__ += ["compare_with_standard"]
