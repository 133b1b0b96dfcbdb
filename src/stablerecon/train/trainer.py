"""Train the learned reconstructors of :mod:`stablerecon.nets` on phantoms (or user images).

One function, :func:`train`, for every network: images are generated on the fly (random
ellipses, the FBPConvNet recipe, plus Shepp–Logan variants; optionally a folder of user
images), measured with the modality's operator (plus optional noise), and the network is
fitted with Adam on the mean squared error (DAGAN adds its frequency and adversarial losses).
Every epoch ends with validation PSNR/SSIM on a fixed held-out set and an atomic checkpoint;
``resume`` continues from it. Randomness derives from ``seed`` and the (epoch, step), so a
resumed run draws the same data as an uninterrupted one. At the end the weights (float32)
and a card with everything needed to rebuild the model and its operator are written.
"""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from stablerecon import metrics, validate
from stablerecon.data.brain import GUARD, brain_batch, brain_slices, split_indices
from stablerecon.data.phantoms import random_ellipses, shepp_logan
from stablerecon.data.readers import read_image
from stablerecon.devices import generator, module_device, optimizer_step, resolve_device
from stablerecon.errors import StableReconError
from stablerecon.io import ensure_writable, locked, save_torch, write_json
from stablerecon.modality import modality
from stablerecon.nets.registry import build, build_operator, load_state, model_state
from stablerecon.noise import add_noise

#: network name → (card network, modality, default architecture)
NETWORKS: dict[str, tuple[str, str, dict[str, Any]]] = {
    "cascade": ("cascade", "mri", {"cascades": 5, "depth": 5, "width": 24}),
    "varnet": ("varnet", "mri", {"steps": 6, "filters": 16, "kernel": 5}),
    "dagan": ("dagan", "mri", {"width": 16, "depth": 3}),
    "fbpconvnet": ("fbpconvnet", "ct", {"width": 16, "depth": 3}),
    "dncnn": ("dncnn", "denoise", {"depth": 8, "width": 32}),
    "e2e-varnet": ("e2e-varnet", "mri", {"cascades": 6, "width": 12, "depth": 2,
                                         "sens_width": 8, "sens_depth": 2}),
}
#: networks that reconstruct multi-coil data (they need ``coils`` ≥ 1)
MULTICOIL = ("e2e-varnet",)
VALIDATION_SEED = 1_000_003  # held-out phantoms: never drawn in training (other seeds)
#: where the training images come from: generated phantoms, or slices of the MNI152 brain
DATASETS = ("phantoms", "brain")


@dataclass
class TrainConfig:
    """Everything that defines a training run (written into the card).

    Attributes
    ----------
    net : str
        The network, one of :data:`NETWORKS` (e.g. ``"cascade"``).
    size : int
        Image side (≥ 16).
    epochs, steps, batch : int
        Epochs, optimiser steps per epoch, images per step.
    lr : float
        Adam's learning rate (> 0).
    lr_schedule : str
        ``"constant"`` or ``"cosine"``.
    seed : int
        Seeds initialisation, data and noise.
    noise : float or None
        Training noise level (None: the modality's default, :mod:`stablerecon.modality`).
    rate, pattern : float, str
        MRI: sampling rate and pattern.
    angles : int
        CT: number of angles.
    coils : int
        MRI: 0 for single-coil, else the number of simulated birdcage coils.
    center_fraction : float
        MRI column patterns (``equispaced``, ``random_columns``): the fully sampled centre.
    phase : bool
        Give every image a random smooth phase (real MR images have one; a network trained
        on real-valued images only would learn to expect none).
    texture : float
        Probability of striped ellipses in the phantoms.
    data_dir : str or None
        A folder of the user's images mixed into the phantoms.
    dataset : str
        ``"phantoms"`` or ``"brain"`` (the MNI152 training slices).
    validation : int
        Held-out validation images.
    time_limit : float or None
        Seconds allowed; training stops at the step that passes it and finishes that
        epoch's validation and files.
    name : str or None
        The card's name (default: ``net``).
    architecture : dict
        Keyword arguments of the network class.
    """

    net: str
    size: int = 128
    epochs: int = 10
    steps: int = 50
    batch: int = 4
    lr: float = 1e-3
    lr_schedule: str = "constant"
    seed: int = 0
    noise: float | None = None  # None: the modality's default (stablerecon.modality)
    rate: float = 0.25
    pattern: str = "variable_density"
    angles: int = 50
    coils: int = 0
    center_fraction: float = 0.08
    phase: bool = False
    texture: float = 0.0
    data_dir: str | None = None
    dataset: str = "phantoms"
    validation: int = 8
    time_limit: float | None = None
    name: str | None = None
    architecture: dict[str, Any] = field(default_factory=dict)

    def check(self) -> None:
        """Refuse settings that cannot train, naming the setting and what is expected.

        Raises
        ------
        StableReconError
            For an unknown network, a size, count or rate out of range, or a non-finite value.
        """
        validate.choice("net", self.net, sorted(NETWORKS))
        for key in ("epochs", "steps", "batch", "validation", "angles"):
            validate.number(key, getattr(self, key), low=1, low_closed=True, integer=True)
        validate.number("size", self.size, low=16, low_closed=True, integer=True,
                        hint="the U-Nets downsample 3 times")
        validate.number("rate", self.rate, low=0, high=1)
        validate.number("coils", self.coils, low=0, low_closed=True, integer=True)
        validate.number("center_fraction", self.center_fraction, low=0, high=1)
        if self.net in MULTICOIL and self.coils < 1:
            raise StableReconError(f"{self.net} reconstructs multi-coil data: give the number "
                                   "of coils (--coils 8).")
        if self.coils and self.net not in MULTICOIL:
            raise StableReconError(f"{self.net} is a single-coil network; multi-coil data "
                                   f"(--coils) trains {', '.join(MULTICOIL)}.")
        validate.number("texture", self.texture, low=0, high=1, low_closed=True,
                        hint="a probability")
        validate.choice("lr_schedule", self.lr_schedule, ("constant", "cosine"))
        if self.noise is not None:
            validate.number("noise", self.noise, low=0, low_closed=True)
        validate.number("lr", self.lr, low=0)
        if self.time_limit is not None:
            validate.number("time_limit", self.time_limit, low=0, hint="seconds")
        if self.data_dir is not None and not Path(self.data_dir).is_dir():
            raise StableReconError(f"data_dir {self.data_dir}: not a folder of images.")
        if self.name is not None and (Path(self.name).name != self.name
                                      or self.name in (".", "..") or not self.name.strip()):
            raise StableReconError(f"name {self.name!r} must be a plain file name (no "
                                   "folders): the files are written into --out.")
        if self.dataset not in DATASETS:
            raise StableReconError(f"unknown dataset {self.dataset!r}; choose one of "
                                   f"{DATASETS} (or a folder of images with --data).")
        if self.dataset == "brain" and self.data_dir is not None:
            raise StableReconError("dataset 'brain' trains on the brain slices alone; a folder "
                                   "of user images goes with the phantoms.")

    @property
    def modality(self) -> str:
        return NETWORKS[self.net][1]

    @property
    def model_name(self) -> str:
        return self.name or f"{self.modality}-{self.net}"

    def operator_spec(self) -> dict[str, Any]:
        """The spec of the operator this run trains for (:mod:`stablerecon.modality`).

        Returns
        -------
        dict
            The JSON-ready spec.
        """
        return modality(self.modality).spec((self.size, self.size), pattern=self.pattern,
                                            rate=self.rate, angles=self.angles,
                                            coils=self.coils,
                                            center_fraction=self.center_fraction)

    def card(self) -> dict[str, Any]:
        """The card's model description: name, network, operator spec, architecture.

        Returns
        -------
        dict
            The card's first entries (training adds the rest).
        """
        network, _, default = NETWORKS[self.net]
        return {"name": self.model_name, "network": network, "operator": self.operator_spec(),
                "architecture": {**default, **self.architecture}}


# -- data -------------------------------------------------------------------------------

def _user_images(cfg: TrainConfig) -> list[torch.Tensor]:
    if cfg.data_dir is None:
        return []
    files = sorted(p for p in Path(cfg.data_dir).iterdir() if p.is_file())
    images = []
    for path in files:
        x = read_image(path).x
        x = x.abs() if x.is_complex() else x
        images.append(torch.nn.functional.interpolate(
            x[None, None].float(), size=(cfg.size, cfg.size), mode="bilinear",
            align_corners=False)[0, 0])
    if not images:
        raise StableReconError(f"data_dir {cfg.data_dir}: no readable images in the folder.")
    return images


def training_batch(cfg: TrainConfig, epoch: int, step: int,
                   user: list[torch.Tensor]) -> torch.Tensor:
    """Ground-truth images (batch, size, size) for one step, a function of (seed, epoch, step):
    random ellipses, one in eight replaced by a Shepp–Logan variant (flipped, rotated,
    rescaled) or, when given, a user image; or (``dataset="brain"``) augmented training
    slices of the MNI152 brain (:func:`stablerecon.data.brain.brain_batch`)."""
    seed = (cfg.seed * 1_000_003 + epoch) * 10_007 + step
    if cfg.dataset == "brain":
        return with_phase(cfg, brain_batch(cfg.size, cfg.batch, seed), seed)
    x = random_ellipses(cfg.size, count=cfg.batch, seed=seed, texture=cfg.texture)
    rng = np.random.default_rng(seed)
    for i in range(cfg.batch):
        if rng.random() < 1 / 8:
            base = user[rng.integers(len(user))] if user else shepp_logan(cfg.size)
            img = torch.rot90(base, int(rng.integers(4)), dims=(0, 1))
            if rng.random() < 0.5:
                img = img.flip(1)
            x[i] = img * float(rng.uniform(0.7, 1.0))
    return with_phase(cfg, x, seed)


def with_phase(cfg: TrainConfig, x: torch.Tensor, seed: int) -> torch.Tensor:
    """x, or with ``cfg.phase`` each image times its own random smooth phase
    (:func:`stablerecon.data.coils.smooth_phase`, seeds ``seed·97 + i``)."""
    if not cfg.phase:
        return x
    from stablerecon.data.coils import smooth_phase

    phases = torch.stack([smooth_phase(tuple(x.shape[-2:]), seed=seed * 97 + i)
                          for i in range(len(x))])
    return x.to(torch.complex64) * phases.to(x.device)


def measure(cfg: TrainConfig, A, x: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """y = A x + e with the modality's noise model (:mod:`stablerecon.noise`): ||e|| =
    ``noise``·||Ax|| per image for MRI and CT, entries of standard deviation ``noise``
    (default 0.1) for denoising. Drawn on the generator's device, moved to y's."""
    mod = modality(cfg.modality)
    y = A(x.to(mod.image_dtype(x.dtype)))
    return add_noise(y, mod.noise_level(cfg.noise), relative=mod.relative_noise, gen=gen,
                     sample_dims=len(A.out_shape))


def validation_set(cfg: TrainConfig, A) -> tuple[torch.Tensor, torch.Tensor]:
    """The fixed held-out (x, y) pairs, on A's device: random ellipses from a seed training
    never uses, or (``dataset="brain"``) the brain's test slices. The noise is drawn on the
    CPU, so the set is the same on every device."""
    if cfg.dataset == "brain":
        x = brain_slices(cfg.size, "test")
    else:
        x = random_ellipses(cfg.size, count=cfg.validation, seed=VALIDATION_SEED + cfg.seed,
                            texture=cfg.texture)
    x = with_phase(cfg, x, VALIDATION_SEED).to(module_device(A) or "cpu")
    y = measure(cfg, A, x, generator(VALIDATION_SEED))
    return x, y


def evaluate(model, x: torch.Tensor, y: torch.Tensor) -> dict[str, float]:
    """Mean PSNR/SSIM of |model(y)| against x over a set (no gradients)."""
    with torch.no_grad():
        out = torch.cat([model(y[i:i + 4]) for i in range(0, len(y), 4)])
    return {"psnr": float(np.mean([metrics.psnr(o, t) for o, t in zip(out, x)])),
            "ssim": float(np.mean([metrics.ssim(o, t) for o, t in zip(out, x)]))}


_DESCRIBE = {"phantoms": "random ellipse phantoms (+ Shepp-Logan variants)",
             "brain": "augmented axial slices of the MNI152 2009a T1 brain template"}


def _data_record(cfg: TrainConfig) -> dict[str, Any]:
    """What the card says about the data: the recipe, the split and the validation set."""
    if cfg.dataset == "brain":
        train_idx = split_indices("train", "axial")
        return {"data_recipe": "brain_batch(size, batch, seed=(seed*1000003+epoch)*10007+step): "
                               "a training slice or one interpolated between two neighbouring "
                               "training slices, randomly flipped, rotated ±10°, zoomed "
                               "0.9-1.1, shifted ±4%, intensity 0.8-1.0 "
                               "(stablerecon.data.brain)",
                "data_split": {"source": "nilearn: mni_icbm152_t1_tal_nlin_sym_09a_converted",
                               "orientation": "axial",
                               "train_slices": [train_idx[0], train_idx[-1]],
                               "train_count": len(train_idx),
                               "test_slices": split_indices("test", "axial"),
                               "guard": f"{GUARD} slices each side of the test block unused"},
                "validation_set": "brain_slices(size, 'test'): axial slices 95-104"}
    return {"data_recipe": "random_ellipses(size, count=batch, seed=(seed*1000003+epoch)*10007"
                           "+step, texture=texture); 1 in 8 replaced by a rotated/flipped/"
                           "rescaled Shepp-Logan (or user image)",
            "validation_set": f"random_ellipses(size, count={cfg.validation}, "
                              f"seed={VALIDATION_SEED}+seed, texture={cfg.texture:g})"}


def _device_name(device: torch.device) -> str:
    """The device in words for the card: 'cpu (N threads)' or the GPU's name."""
    if device.type == "cuda":
        return f"cuda: {torch.cuda.get_device_name(device)}"
    return f"{device.type} ({torch.get_num_threads()} threads)"


# -- losses -----------------------------------------------------------------------------

def _loss(out: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """Mean squared error; a magnitude output (E2E-VarNet's RSS) against |x|."""
    if x.is_complex() and not out.is_complex():
        x = x.abs()
    return (out - x).abs().pow(2).mean()


def _frequency_loss(out: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """DAGAN's frequency-domain term: ||F x̂ − F x||² / n (orthonormal FFT)."""
    return (torch.fft.fft2(out, norm="ortho") - torch.fft.fft2(x.to(out.dtype), norm="ortho")
            ).abs().pow(2).mean()


# -- checkpoints --------------------------------------------------------------------------

def save_checkpoint(path: Path, state: dict[str, Any]) -> None:
    """Write a checkpoint atomically (an interruption never leaves a half-written file)."""
    save_torch(path, state)


#: what a checkpoint holds → its type (DAGAN's also hold its discriminator and optimiser)
CHECKPOINT_FIELDS = {"config": dict, "model": dict, "optimizer": dict, "epoch": int,
                     "history": list, "elapsed": float}


def _check_checkpoint(path: Path, state: Any, dagan: bool) -> None:
    """Refuse a checkpoint that lacks a field training needs (its config above all), naming
    the file and the field, before any of it is used."""
    fields = {**CHECKPOINT_FIELDS, **({"disc": dict, "disc_optimizer": dict} if dagan else {})}
    if not isinstance(state, dict):
        raise StableReconError(f"resume: {path} is not a checkpoint written by 'stablerecon "
                               "train' (not a dict); remove it and start again.")
    for key, kind in fields.items():
        value = state.get(key)
        if not isinstance(value, kind) or isinstance(value, bool):
            what = "is missing" if key not in state else f"is a {type(value).__name__}"
            raise StableReconError(f"resume: checkpoint {path}: field {key!r} {what} (a "
                                   f"{kind.__name__} is needed); it was not written by "
                                   "'stablerecon train' or was edited. Remove it and start "
                                   "again.")


def train(cfg: TrainConfig, out: str | Path, resume: bool = False, console=None,
          command: str | None = None, device: str | torch.device = "cpu") -> dict[str, Any]:
    """Train ``cfg.net``; write ``<name>.ckpt`` each epoch, then ``<name>.pt`` and
    ``<name>.json`` (the card) into ``out``.

    Initialisation is seeded on the CPU, so it is the same on every device; the training
    noise is drawn on the device (reproducible per device). A run may be resumed on another
    device. One run writes an ``out`` folder at a time (a lock).

    Parameters
    ----------
    cfg : TrainConfig
        The run's settings.
    out : str or Path
        Output folder (checked writable before training starts).
    resume : bool
        Continue from ``<name>.ckpt`` in ``out`` (loaded as plain tensors: no code runs).
    console : rich.console.Console, optional
        Where progress goes.
    command : str, optional
        The command line to record in the card.
    device : str or torch.device
        ``"cpu"``, ``"cuda"``, ``"cuda:N"`` or ``"auto"`` (CUDA when present).

    Returns
    -------
    dict
        The card.
    """
    cfg.check()
    device = resolve_device(device)
    out = ensure_writable(out)
    with locked(out, "training run"):
        return _train(cfg, out, resume, console, command, device)


def _train(cfg: TrainConfig, out: Path, resume: bool, console, command: str | None,
           device: torch.device) -> dict[str, Any]:
    torch.manual_seed(cfg.seed)
    card = cfg.card()
    with torch.device("cpu"):  # the initial weights do not depend on the device
        A = build_operator(card["operator"])
        model = build(card, A)
    A, model = A.to(device), model.to(device)
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    disc = disc_opt = None
    if cfg.net == "dagan":
        from stablerecon.nets.unet import Discriminator

        with torch.device("cpu"):
            disc = Discriminator()
        disc = disc.to(device)
        disc_opt = torch.optim.Adam(disc.parameters(), lr=cfg.lr)
    ckpt_path = out / f"{cfg.model_name}.ckpt"
    start_epoch, history, elapsed = 0, [], 0.0
    if resume:
        if not ckpt_path.exists():
            raise StableReconError(f"resume: no checkpoint at {ckpt_path}; start without "
                                   "resuming.")
        try:  # weights_only: a checkpoint is data; nothing in it may run code on load
            state = torch.load(ckpt_path, map_location=device, weights_only=True)
        except Exception as exc:
            raise StableReconError(f"resume: {ckpt_path} is not a checkpoint written by "
                                   f"'stablerecon train' (or is damaged): {exc}. Remove it and "
                                   "start again.") from exc
        _check_checkpoint(ckpt_path, state, dagan=disc is not None)
        same = lambda c: {k: v for k, v in c.items() if k not in ("epochs", "time_limit")}  # noqa: E731
        if same(state["config"]) != same(asdict(cfg)):
            raise StableReconError(f"resume: {ckpt_path} was written with other options "
                                   f"({state['config']}); use the same options (only epochs "
                                   "and time_limit may change) or a new out folder.")
        load_state(model, state["model"], ckpt_path)
        opt.load_state_dict(state["optimizer"])
        if disc is not None:
            load_state(disc, state["disc"], ckpt_path)
            disc_opt.load_state_dict(state["disc_optimizer"])
        start_epoch, history, elapsed = state["epoch"] + 1, state["history"], state["elapsed"]
    user = _user_images(cfg)
    x_val, y_val = validation_set(cfg, A)
    total_steps = cfg.epochs * cfg.steps
    t0 = time.perf_counter() - elapsed
    stopped = False

    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

    with Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.fields[info]}"),
                  TimeRemainingColumn(), console=console, disable=console is None) as progress:
        task = progress.add_task(f"train {cfg.model_name}", total=total_steps,
                                 completed=start_epoch * cfg.steps, info="")
        for epoch in range(start_epoch, cfg.epochs):
            model.train()
            losses = []
            for step in range(cfg.steps):
                x = training_batch(cfg, epoch, step, user).to(device)
                gen = generator(cfg.seed * 7919 + epoch * cfg.steps + step, device)
                y = measure(cfg, A, x, gen)
                out_img = model(y)
                loss = _loss(out_img, x)
                if disc is not None:  # DAGAN: frequency + adversarial terms, then D's step
                    real_label = torch.ones(len(x), device=device)
                    adv = torch.nn.functional.binary_cross_entropy_with_logits(
                        disc(out_img), real_label)
                    loss = loss + 0.1 * _frequency_loss(out_img, x) + 1e-3 * adv
                opt.zero_grad()
                loss.backward()
                optimizer_step(opt)
                if cfg.lr_schedule == "cosine":  # lr(t) = lr (1 + cos(π t / T)) / 2, T = all steps
                    t_done = epoch * cfg.steps + step + 1
                    for group in opt.param_groups:
                        group["lr"] = 0.5 * cfg.lr * (1 + math.cos(math.pi * t_done / total_steps))
                if disc is not None:
                    d_loss = (torch.nn.functional.binary_cross_entropy_with_logits(
                        disc(x.to(torch.complex64)), real_label)
                        + torch.nn.functional.binary_cross_entropy_with_logits(
                        disc(out_img.detach()), torch.zeros(len(x), device=device)))
                    disc_opt.zero_grad()
                    d_loss.backward()
                    optimizer_step(disc_opt)
                losses.append(loss.item())
                psnr = -10 * math.log10(max(losses[-1], 1e-12))
                progress.update(task, advance=1,
                                info=f"epoch {epoch + 1}/{cfg.epochs} loss {losses[-1]:.2e} "
                                     f"(~{psnr:.1f} dB)")
                if cfg.time_limit and time.perf_counter() - t0 > cfg.time_limit:
                    stopped = True
                    break
            model.eval()
            val = evaluate(model, x_val, y_val)
            history.append({"epoch": epoch + 1, "loss": float(np.mean(losses)), **val,
                            "elapsed_s": time.perf_counter() - t0})
            if console is not None:
                console.print(f"epoch {epoch + 1}: loss {np.mean(losses):.3e}, validation "
                              f"PSNR {val['psnr']:.2f} dB, SSIM {val['ssim']:.3f}")
            state = {"config": asdict(cfg), "model": model_state(model),
                     "optimizer": opt.state_dict(), "epoch": epoch, "history": history,
                     "elapsed": time.perf_counter() - t0}
            if disc is not None:
                state.update(disc=disc.state_dict(), disc_optimizer=disc_opt.state_dict())
            save_checkpoint(ckpt_path, state)
            if stopped:
                break
    weights = f"{cfg.model_name}.pt"
    save_torch(out / weights, model_state(model))
    data = _data_record(cfg)
    card.update({
        "description": f"{cfg.net} for {cfg.modality}"
                       f"{f' ({cfg.coils} birdcage coils)' if cfg.coils else ''}, "
                       f"{cfg.size}x{cfg.size}, trained on {_DESCRIBE[cfg.dataset]}"
                       f"{' with random smooth phase' if cfg.phase else ''} by stablerecon "
                       "train.",
        "weights": weights,
        "train_command": command or f"stablerecon.train.train({cfg!r}, out=...) (Python)",
        "config": asdict(cfg),
        **{k: v for k, v in data.items() if k != "validation_set"},
        "training_time_s": history[-1]["elapsed_s"] if history else 0.0,
        "stopped_by_time_limit": stopped,
        "epochs_done": len(history),
        "validation": {"set": data["validation_set"],
                       **(history[-1] if history else {})},
        "history": history,
        "device": _device_name(device),
        "torch": torch.__version__,
    })
    write_json(out / f"{cfg.model_name}.json", card)
    return card
