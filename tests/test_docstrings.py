"""One docstring style (numpydoc) on the public API: every function and class that a
subpackage exports, and their public methods, say what they do; those that take arguments
have a Parameters section (classes may list Attributes), those that return something a
Returns section."""

import importlib
import inspect

import pytest
import torch

PACKAGES = ["stablerecon.audit", "stablerecon.data", "stablerecon.devices", "stablerecon.io",
            "stablerecon.metrics", "stablerecon.modality", "stablerecon.nets",
            "stablerecon.noise", "stablerecon.operators", "stablerecon.prox",
            "stablerecon.report", "stablerecon.solvers", "stablerecon.sweep",
            "stablerecon.train"]
SKIP_PARAMS = {"self", "cls", "args", "kwargs"}


def _public_api():
    seen = set()
    for package in PACKAGES:
        module = importlib.import_module(package)
        for name in module.__all__:
            obj = getattr(module, name)
            if not callable(obj) or not getattr(obj, "__module__", "").startswith("stablerecon"):
                continue
            if id(obj) in seen:
                continue
            seen.add(id(obj))
            yield f"{package}.{name}", obj
            if inspect.isclass(obj):
                for attr, member in vars(obj).items():
                    if attr.startswith("_") or not inspect.isfunction(member):
                        continue
                    if any(attr in vars(base) for base in (torch.nn.Module, object)):
                        continue  # forward, extra_repr...: torch's protocol, documented there
                    yield f"{package}.{name}.{attr}", member


def _problems(obj) -> list[str]:
    doc = inspect.getdoc(obj) or ""
    if not doc:
        return ["no docstring"]
    target = obj.__init__ if inspect.isclass(obj) else obj
    try:
        signature = inspect.signature(target)
    except (TypeError, ValueError):
        return []
    problems = []
    params = [p for p in signature.parameters if p not in SKIP_PARAMS]
    documented = "Parameters\n----------" in doc or (
        inspect.isclass(obj) and "Attributes\n----------" in doc)
    if params and not documented:
        problems.append(f"no Parameters section for {params}")
    returns = signature.return_annotation
    if (not inspect.isclass(obj) and returns not in (None, "None", inspect.Signature.empty)
            and "Returns\n-------" not in doc and "Yields\n------" not in doc):
        problems.append("no Returns section")
    return problems


@pytest.mark.parametrize("name, obj", list(_public_api()), ids=lambda v: v if isinstance(
    v, str) else "")
def test_public_api_has_numpydoc_docstrings(name, obj):
    assert not _problems(obj), f"{name}: {_problems(obj)}"


def test_shared_descriptions_are_filled_at_the_placeholder_indentation():
    from stablerecon.docstrings import fill

    shared = {"x": "x : torch.Tensor\n    The image."}

    @fill(shared)
    def f(x):
        """Do it.

        Parameters
        ----------
        {{x}}
        """

    assert inspect.getdoc(f) == ("Do it.\n\nParameters\n----------\nx : torch.Tensor\n"
                                 "    The image.")
    with pytest.raises(KeyError):
        fill(shared)(type("C", (), {"__doc__": "    {{y}}"}))
    assert "{{" not in "".join(inspect.getdoc(obj) or "" for _, obj in _public_api())
