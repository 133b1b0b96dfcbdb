"""The ``stablerecon`` command line (also ``python -m stablerecon``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console

from stablerecon.errors import StableReconError

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="Can this image reconstruction be trusted? Audits, certified solvers, FIRENETs.",
)
console = Console(stderr=True)


def _fail(exc: Exception) -> None:
    console.print(f"[bold red]error:[/] {exc}")
    raise typer.Exit(code=2)


@app.command()
def demo(
    out: Path = typer.Option(Path("out"), help="Folder for the figures and metrics."),
    size: int = typer.Option(128, help="Image size (pixels per side)."),
    rate: float = typer.Option(0.25, help="MRI sampling rate (fraction of k-space)."),
    seed: int = typer.Option(0, help="Seed for the sampling mask."),
) -> None:
    """The main job: phantom -> MRI measurements -> reconstructions -> figures + metrics."""
    from stablerecon.demo import run_demo

    try:
        result = run_demo(out, size=size, rate=rate, seed=seed, console=console)
    except StableReconError as exc:
        _fail(exc)
    console.print(f"[green]wrote[/] {', '.join(str(p) for p in result['files'])}")
    typer.echo(json.dumps(result["metrics"], indent=2))


@app.command()
def images() -> None:
    """List the images that ship with installed packages (usable by name)."""
    from stablerecon.data import available

    for name in available():
        typer.echo(name)


@app.command()
def check(
    operator: str = typer.Argument(..., help="mri | ct | wavelet | gradient"),
    size: int = typer.Option(64, help="Image size."),
    dtype: str = typer.Option("float64", help="float32 or float64."),
) -> None:
    """Run the adjoint test of a built-in operator and print its relative error."""
    import torch

    from stablerecon import operators as ops

    builders = {
        "mri": lambda: ops.SubsampledFourier(
            (size, size), ops.sampling.variable_density((size, size), 0.25)
        ),
        "ct": lambda: ops.Radon((size, size), 60),
        "wavelet": lambda: ops.Wavelet((size, size), "db4", levels=3),
        "gradient": lambda: ops.Gradient((size, size)),
    }
    if operator not in builders:
        _fail(StableReconError(f"unknown operator {operator!r}; choose {sorted(builders)}."))
    if dtype not in ("float32", "float64"):
        _fail(StableReconError(f"dtype must be float32 or float64, got {dtype!r}."))
    try:
        res = builders[operator]().check_adjoint(getattr(torch, dtype), raise_on_fail=False)
    except StableReconError as exc:
        _fail(exc)
    typer.echo(json.dumps({"operator": operator, "error": res.error, "tol": res.tol,
                           "passed": res.passed}))
    if not res.passed:
        raise typer.Exit(code=1)


def main(argv: Optional[list[str]] = None) -> None:
    app(argv)
