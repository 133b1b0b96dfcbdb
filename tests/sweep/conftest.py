"""A tiny user model for sweeps (importable by worker processes and Ray tasks through
PYTHONPATH) and a small, fast study over it."""

import json
import os
import sys
import textwrap

import pytest

MODEL = textwrap.dedent('''
    import torch
    import stablerecon as sr

    _A = sr.operators.SubsampledFourier(
        (32, 32), sr.operators.sampling.variable_density((32, 32), 0.3, seed=0))


    class Smooth(torch.nn.Module):
        """Zero-filled reconstruction, then a fixed 3x3 blur: a linear, stable Ψ."""

        def __init__(self, A):
            super().__init__()
            self.operator = A
            k = torch.tensor([[1., 2., 1.], [2., 4., 2.], [1., 2., 1.]]) / 16
            self.register_buffer("k", k.reshape(1, 1, 3, 3))

        def forward(self, y):
            z = self.operator.H(y).abs()
            out = torch.nn.functional.conv2d(z.reshape(-1, 1, 32, 32), self.k, padding=1)
            return out.reshape(z.shape)


    model = Smooth(_A)


    class Broken(Smooth):
        """Loads like any model and fails when it runs (a cell that fails at run time)."""

        def forward(self, y):
            raise RuntimeError("broken on purpose")


    broken = Broken(_A)
''')


@pytest.fixture(scope="session")
def model_dir(tmp_path_factory):
    """A folder holding ``sweep_tiny.py``, on sys.path and PYTHONPATH (for workers)."""
    folder = tmp_path_factory.mktemp("models")
    (folder / "sweep_tiny.py").write_text(MODEL)
    sys.path.insert(0, str(folder))
    old = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(folder), old]))
    yield folder
    sys.path.remove(str(folder))
    if old is None:
        os.environ.pop("PYTHONPATH", None)
    else:
        os.environ["PYTHONPATH"] = old


@pytest.fixture
def study(model_dir):
    """Settings of a 10-cell study: 2 images × (instability, noise at 2 budgets + kernel)."""
    return {"models": ["python:sweep_tiny:model"], "images": ["phantom", "ellipses:1"],
            "tests": ["instability", "noise", "kernel"], "budgets": [0.01, 0.05],
            "seeds": [0], "steps": 3, "draws": 3, "phi_tol": 1e-3, "phi_max_iter": 100}


@pytest.fixture
def write_config(tmp_path):
    """write_config(settings, out) -> the path of a TOML file holding them."""
    def write(settings: dict, out) -> str:
        def value(v):
            if isinstance(v, list):
                return "[" + ", ".join(value(x) for x in v) + "]"
            if isinstance(v, bool):
                return str(v).lower()
            return json.dumps(v)  # JSON strings and numbers are valid TOML
        text = "".join(f"{k} = {value(v)}\n" for k, v in {**settings, "out": str(out)}.items())
        path = tmp_path / "study.toml"
        path.write_text(text)
        return str(path)
    return write
