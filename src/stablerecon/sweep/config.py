"""A stability study declared in one file: models × images × tests × budgets × seeds.

A TOML file (``stablerecon sweep study.toml``), for example::

    out = "out/study"                 # results, relative to this file
    models = ["mri-cascade", "mri-firenet", "runs/net/net.json", "python:mymodels:unet"]
    images = ["brain:test", "scans/", "phantom"]
    tests = ["instability", "noise", "kernel", "accuracy"]
    budgets = [0.005, 0.01, 0.02]     # ||r|| / ||x|| for instability and noise
    seeds = [0, 1]
    steps = 30                        # gradient steps of each worst-case search
    draws = 20                        # random perturbations of the noise test
    phi = true                        # audit the standard method Φ beside each model
    phi_tol = 1e-4                    # Φ's certified relative gap, and its iteration cap
    phi_max_iter = 2000
    device = "cpu"                    # or "cuda", "cuda:1", "auto"

Models are anything :func:`stablerecon.audit.as_reconstructor` accepts (registry names, card
files, TorchScript files, ``python:module:fn``); images are the specs of
:mod:`stablerecon.data.specs`. Relative file paths are read relative to the configuration
file.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

from stablerecon import validate
from stablerecon.errors import StableReconError

#: the tests a sweep runs, and whether each takes a perturbation budget
TESTS = {"instability": True, "noise": True, "kernel": False, "accuracy": False}


@dataclass(frozen=True)
class SweepConfig:
    """What to run (see the module docstring); every field has the meaning of its TOML key.

    Attributes
    ----------
    models : tuple of str
        Registry names, card files, TorchScript files, ``python:module:fn``.
    images : tuple of str
        Image specs (:mod:`stablerecon.data.specs`): names, files, folders.
    tests : tuple of str
        From :data:`TESTS`.
    budgets : tuple of float
        Perturbation sizes ||r||/||x|| > 0 of the instability and noise tests.
    seeds : tuple of int
        One cell per seed.
    steps, draws : int
        Ascent steps of each worst-case search; random draws of the noise test.
    operator : str or None
        A registry model whose operator every model is audited on.
    phi : bool
        Audit the standard method Φ beside each model.
    phi_tol, phi_max_iter : float, int
        Φ's certified relative gap and iteration cap.
    device : str
        ``"cpu"``, ``"cuda"``, ``"cuda:N"`` or ``"auto"``.
    out : Path
        The results folder.
    """

    models: tuple[str, ...]
    images: tuple[str, ...]
    tests: tuple[str, ...] = ("instability", "noise")
    budgets: tuple[float, ...] = (0.01, 0.02, 0.04)
    seeds: tuple[int, ...] = (0,)
    steps: int = 30
    draws: int = 20
    operator: str | None = None
    phi: bool = True
    phi_tol: float = 1e-4
    phi_max_iter: int = 2000
    device: str = "cpu"
    out: Path = Path("out/sweep")

    def __post_init__(self) -> None:
        for name in ("models", "images", "tests", "budgets", "seeds"):
            value = getattr(self, name)
            if isinstance(value, (str, bytes)) or not hasattr(value, "__iter__"):
                raise StableReconError(f"sweep {name} must be a list, got {value!r}.")
            object.__setattr__(self, name, tuple(value))
            if not getattr(self, name):
                raise StableReconError(f"sweep {name} is empty; list at least one.")
        bad = [t for t in self.tests if t not in TESTS]
        if bad:
            raise StableReconError(f"unknown sweep test(s) {bad}; choose from {list(TESTS)}.")
        object.__setattr__(self, "budgets", tuple(validate.numbers_list(
            "sweep budgets (||r||/||x||)", self.budgets, low=0)))
        for name in ("seeds", "models", "images"):
            kind = int if name == "seeds" else str
            values = getattr(self, name)
            if not all(isinstance(v, kind) and not isinstance(v, bool) for v in values):
                raise StableReconError(f"sweep {name} must be {kind.__name__}s, got "
                                       f"{list(getattr(self, name))}.")
        if not isinstance(self.phi, bool):  # "no" or 0 must not run Φ by being truthy
            raise StableReconError(f"sweep phi must be true or false (a TOML boolean), got "
                                   f"{self.phi!r}.")
        for name in ("device",) + (("operator",) if self.operator is not None else ()):
            if not isinstance(getattr(self, name), str):
                raise StableReconError(f"sweep {name} must be a string, got "
                                       f"{getattr(self, name)!r}.")
        validate.number("sweep phi_tol", self.phi_tol, low=0, high=1, high_closed=False,
                        hint="e.g. 1e-4")
        for name in ("steps", "draws", "phi_max_iter"):
            validate.number(f"sweep {name}", getattr(self, name), low=1, low_closed=True,
                            integer=True)
        object.__setattr__(self, "out", Path(self.out))

    def to_dict(self) -> dict[str, Any]:
        """The configuration as JSON-ready data (recorded beside the results).

        Returns
        -------
        dict
            Field name -> value.
        """
        data = asdict(self)
        data["out"] = str(self.out)
        return {k: list(v) if isinstance(v, tuple) else v for k, v in data.items()}


def from_mapping(data: Mapping[str, Any], base: Path | None = None) -> SweepConfig:
    """A :class:`SweepConfig` from a mapping (a parsed TOML file).

    Parameters
    ----------
    data : mapping
        Keys as in the module docstring; unknown keys are refused.
    base : Path, optional
        Folder that relative paths are read from when they exist there.

    Returns
    -------
    SweepConfig
        The checked configuration.
    """
    known = {f.name for f in fields(SweepConfig)}
    unknown = sorted(set(data) - known)
    if unknown:
        raise StableReconError(f"unknown sweep setting(s) {unknown}; known: {sorted(known)}.")
    missing = [k for k in ("models", "images") if k not in data]
    if missing:
        raise StableReconError(f"the sweep configuration needs {missing} (lists of models "
                               "and images).")
    data = dict(data)
    if base is not None:
        def local(spec: Any) -> Any:
            return str(base / spec) if isinstance(spec, str) and not Path(spec).is_absolute() \
                and (base / spec).exists() else spec
        for key in ("models", "images"):
            if isinstance(data[key], list):
                data[key] = [local(s) for s in data[key]]
        if isinstance(data.get("operator"), str):
            data["operator"] = local(data["operator"])
        data["out"] = base / data.get("out", "out/sweep")
    return SweepConfig(**data)


def load_config(path: str | Path) -> SweepConfig:
    """Read a sweep configuration from a TOML file.

    Parameters
    ----------
    path : str or Path
        The TOML file; relative paths inside it are relative to its folder.

    Returns
    -------
    SweepConfig
        The checked configuration.
    """
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - Python 3.10
        import tomli as tomllib

    path = Path(path)
    if not path.is_file():
        raise StableReconError(f"sweep configuration {path} does not exist; write a TOML file "
                               "(see 'stablerecon sweep --help').")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise StableReconError(f"{path} is not valid TOML: {exc}.") from exc
    return from_mapping(data, base=path.resolve().parent)
