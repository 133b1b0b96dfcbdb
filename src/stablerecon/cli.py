"""The ``stablerecon`` command line (also ``python -m stablerecon``)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import typer
from rich.console import Console

from stablerecon.errors import StableReconError
from stablerecon.memory import keep_freed_memory

#: exit status: what went wrong, for scripts (also in the README and --help)
EXIT_FAILED_CELLS, EXIT_BAD_INPUT, EXIT_INTERNAL, EXIT_INTERRUPTED = 1, 2, 3, 130

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    help="Can this image reconstruction be trusted? Audits, certified solvers, FIRENETs.",
    epilog="Exit status: 0 done; 1 a sweep finished with failed cells; 2 bad input or "
           "options (the one-line error says which and how to fix it); 3 an internal error "
           "(a bug: rerun with --debug and report the traceback); 130 interrupted.",
)
console = Console(stderr=True)
_debug = {"on": False}


@app.callback()
def _options(debug: bool = typer.Option(False, "--debug", help="Show the full traceback "
                                                                "with any error.")) -> None:
    _debug["on"] = debug


def _fail(exc: Exception) -> None:
    """Print a library error in one line (or raise it with its traceback under --debug)."""
    if _debug["on"]:
        raise exc
    console.print("[bold red]error:[/] ", end="")
    console.print(str(exc), markup=False, emoji=False, highlight=False, soft_wrap=True)
    raise typer.Exit(code=EXIT_BAD_INPUT)


@app.command()
def demo(
    out: Path = typer.Option(Path("out"), help="Folder for the report, figures and metrics."),
    quick: bool = typer.Option(False, help="Shorter searches (a check, not the report)."),
    seed: int = typer.Option(0, help="Seed for the searches."),
    image: str = typer.Option("brain", help="brain (a held-out MNI152 slice) or phantom "
                                            "(Shepp–Logan)."),
    device: str = typer.Option("auto", help="cpu, cuda, cuda:N or auto (CUDA when "
                                            "available)."),
    multicoil: bool = typer.Option(True, help="Add the multi-coil part (the shipped "
                                              "E2E-VarNet beside Φ, 8 coils)."),
    pdf: bool = typer.Option(False, help="Also print the report to report.pdf (needs "
                                         "Chromium)."),
) -> None:
    """The main job: Φ, the shipped cascade and FIRENET on one MRI problem, audited -> report."""
    from stablerecon.experiments.demo import run_demo

    try:
        result = run_demo(out, quick=quick, seed=seed, console=console, device=device,
                          image=image, multicoil=multicoil)
        if pdf:
            from stablerecon.report.browser import to_pdf

            result["files"].append(to_pdf(result["files"][0], Path(out) / "report.pdf"))
    except StableReconError as exc:
        _fail(exc)
    console.print(f"[green]wrote[/] {', '.join(str(p) for p in result['files'])}")
    typer.echo(json.dumps(result["metrics"]["reconstructions"], indent=2))


@app.command("audit")
def audit_command(
    model: str = typer.Argument(..., help="Registry name, card .json from 'stablerecon train', "
                                          "TorchScript file or python:module:fn."),
    image: str = typer.Option("phantom", help="Bundled image name, 'phantom', 'brain[:K]' "
                                              "(held-out slice K = 95..104), "
                                              "'ellipses:SEED[:TEXTURE]' or a file."),
    tests: str = typer.Option("instability,noise,kernel",
                              help="Comma-separated: instability, noise (with instability: "
                                   "at the worst case's size), curve, more_samples, "
                                   "accuracy, kernel."),
    operator: str | None = typer.Option(None, help="Registry model whose operator to use "
                                                      "(default: the model's own)."),
    steps: int = typer.Option(30, help="Gradient steps per perturbation."),
    radii: str = typer.Option("0.01,0.02,0.04", help="Perturbation radii ||r||/||x||."),
    seed: int = typer.Option(0, help="Seed."),
    out: Path = typer.Option(Path("out/audit"), help="Folder for PNG + JSON per test."),
    device: str = typer.Option("auto", help="cpu, cuda, cuda:N or auto (CUDA when "
                                            "available)."),
    resume: bool = typer.Option(False, help="Keep the tests an interrupted run with the same "
                                            "settings finished in --out; run the rest."),
    kspace: Path | None = typer.Option(None, help="A fastMRI .h5 file: audit around its "
                                                  "measured k-space (instead of --image)."),
    slice_index: int | None = typer.Option(None, "--slice", help="--kspace: the slice "
                                                                 "(default the middle one)."),
    coils_from: str = typer.Option("espirit", help="--kspace: coil maps from espirit, lowres "
                                                   "(the calibration region) or file "
                                                   "(its sens_maps)."),
    acceleration: float | None = typer.Option(None, help="--kspace: undersample a fully "
                                                         "sampled file retrospectively "
                                                         "(equispaced columns)."),
    center_fraction: float = typer.Option(0.08, help="--kspace with --acceleration: the "
                                                     "fully sampled centre."),
) -> None:
    """Audit a reconstructor beside the standard method Φ; PNG + JSON per test.

    With --kspace the model is a multi-coil reconstructor python:module:fn called as
    fn(y, A): y the measured samples (coils, m), A the scan's MultiCoilFourier (A.mask,
    A.sens, A.adjoint). A TorchScript file or a python:module:fn model runs that code: audit
    only models whose source you trust. Registry names and cards load weights only (no
    code)."""
    from stablerecon import audit
    from stablerecon.audit.suite import check_tests
    from stablerecon.data.specs import image as image_from_spec
    from stablerecon.devices import resolve_device
    from stablerecon.io import ensure_writable, locked
    from stablerecon.report.audit import run_to_folder, write_audit_report
    from stablerecon.report.describe import describe

    try:
        chosen = check_tests([t.strip() for t in tests.split(",") if t.strip()])
        sizes = _floats(radii, "--radii")
        ensure_writable(out)
        dev = resolve_device(device)
        if kspace is not None:
            x = _scan(kspace, slice_index, coils_from, acceleration, center_fraction).to(dev)
            A = x.A
            recon = (audit.as_reconstructor(model, physics=A) if model.startswith("python:")
                     else _on_scan(audit.as_reconstructor(model).to(dev), x))
        else:
            recon = audit.as_reconstructor(model).to(dev)
            A = audit.model_operator(recon, operator).to(dev)
            x = image_from_spec(image, A.in_shape)
        with locked(out, "audit"):
            results = run_to_folder(recon, A, x, chosen, out, resume=resume, radii=sizes,
                                    steps=steps, seed=seed, progress=True, keep_going=True)
            summary = {name: res.metrics for name, res in results.items()}
            where = f"the {kspace.name} scan, slice {slice_index}" if kspace else image
            write_audit_report(out, f"stablerecon audit: {recon.name} on {where}", results)
    except StableReconError as exc:
        _fail(exc)
    for name, res in results.items():
        console.print(f"{name}: " + " ".join(describe(res)), markup=False, highlight=False)
    console.print(f"[green]wrote[/] {out}")
    typer.echo(json.dumps(summary, indent=2, default=str))
    failed = [name for name, res in results.items() if res.failed]
    if failed:  # the report shows the rest; the run itself did not do all it was asked
        _fail(StableReconError(f"test(s) {', '.join(failed)} failed (see above); the others "
                               f"are in {out}/report.html. Rerun with --resume after the fix "
                               "to run only those."))


@app.command()
def solve(
    image: str = typer.Argument("phantom", help="Bundled image name or a file path."),
    problem: str = typer.Option("sr_lasso", help="qcbp | u_lasso | sr_lasso"),
    modality: str = typer.Option("mri", help="mri | ct | denoise"),
    size: int = typer.Option(128, min=8, max=4096, help="Resize the image to size x size "
                                                         "(8..4096)."),
    rate: float = typer.Option(0.25, help="MRI sampling rate (variable density)."),
    angles: int = typer.Option(60, help="CT: number of angles in [0, pi)."),
    noise: float | None = typer.Option(None, help="Noise level: ||e|| / ||Ax|| for mri and "
                                                  "ct (default 0), σ for denoise (default "
                                                  "0.1)."),
    lam: float | None = typer.Option(None, help="lambda (U-LASSO, SR-LASSO); default: the "
                                                "modality's preset."),
    tol: float = typer.Option(1e-5, help="Certified relative duality gap to reach."),
    max_iter: int = typer.Option(5000, help="Iteration cap."),
    seed: int = typer.Option(0, help="Seed for mask and noise."),
    out: Path | None = typer.Option(None, help="Write the figure and JSON here."),
) -> None:
    """Reconstruct with a standard method and print its certificate (JSON)."""
    import torch

    from stablerecon import metrics, solvers
    from stablerecon.data.specs import image as image_from_spec
    from stablerecon.io import ensure_writable
    from stablerecon.modality import modality as find_modality
    from stablerecon.noise import add_noise

    try:
        if out is not None:
            ensure_writable(out)  # before the solve, not after it
        mod = find_modality(modality)
        shape = (size, size)
        A = mod.operator(mod.spec(shape, rate=rate, mask_seed=seed, angles=angles))
        x = image_from_spec(image, shape).to(mod.image_dtype(torch.float64))
        clean = A(x)
        y = add_noise(clean, mod.noise_level(noise), relative=mod.relative_noise,
                      gen=torch.Generator().manual_seed(seed))
        options = dict(W=mod.sparsifier(shape), tol=tol, max_iter=max_iter)
        if problem == "qcbp":
            eta = max(float((y - clean).norm()), 1e-6 * float(clean.norm()))
            res = solvers.qcbp(A, y, eta=eta, **options)
        elif problem in ("u_lasso", "sr_lasso"):
            res = getattr(solvers, problem)(A, y, lam=mod.lam if lam is None else lam, **options)
        else:
            raise StableReconError(f"unknown problem {problem!r}; choose qcbp, u_lasso, sr_lasso.")
    except StableReconError as exc:
        _fail(exc)
    summary = res.summary()
    summary["psnr_db"] = metrics.psnr(res.x, x)
    summary["ssim"] = metrics.ssim(res.x, x)
    if out is not None:
        from stablerecon.report import image_row, write_json

        image_row(out / "solve.png", [x, res.x], ["truth", f"{problem} ({modality})"])
        write_json(out / "solve.json", summary)
    typer.echo(json.dumps(summary, indent=2))
    if not res.converged:
        console.print(f"[yellow]not converged:[/] {res.status}")


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


@app.command("train")
def train_command(
    net: str = typer.Argument(..., help="cascade | varnet | dagan | fbpconvnet | dncnn | "
                                        "e2e-varnet (multi-coil: with --coils)"),
    size: int = typer.Option(128, min=16, max=4096, help="Image size (pixels per side)."),
    epochs: int = typer.Option(10, help="Epochs."),
    steps: int = typer.Option(50, help="Optimiser steps per epoch."),
    batch: int = typer.Option(4, help="Images per step."),
    lr: float = typer.Option(1e-3, help="Adam learning rate."),
    lr_schedule: str = typer.Option("constant", help="constant | cosine (decay to 0 over "
                                                     "epochs × steps)."),
    seed: int = typer.Option(0, help="Seed for data, noise and initialisation."),
    noise: float | None = typer.Option(None, help="Measurement noise: ||e|| / ||Ax|| (default "
                                                  "0); denoise: σ (default 0.1)."),
    rate: float = typer.Option(0.25, help="MRI sampling rate."),
    pattern: str = typer.Option("variable_density", help="MRI sampling pattern."),
    angles: int = typer.Option(50, help="CT: number of angles."),
    coils: int = typer.Option(0, help="MRI: simulated birdcage coils (0: single-coil)."),
    center_fraction: float = typer.Option(0.08, help="MRI column patterns (equispaced, "
                                                     "random_columns): the sampled centre."),
    phase: bool = typer.Option(False, "--phase", help="Give each image a random smooth "
                                                      "phase (real MR images have one)."),
    texture: float = typer.Option(0.0, help="Share of phantom ellipses filled with fine "
                                            "stripes (training and validation)."),
    data: str | None = typer.Option(None, help="'brain' (slices of the MNI152 template, "
                                                   "test slices held out), or a folder of "
                                                   "extra training images (with phantoms)."),
    validation: int = typer.Option(8, help="Held-out phantoms for validation each epoch."),
    time_limit: float | None = typer.Option(None, help="Stop after this many seconds."),
    name: str | None = typer.Option(None, help="Model name (default modality-net)."),
    out: Path = typer.Option(Path("out/train"), help="Folder for checkpoint, weights, card."),
    resume: bool = typer.Option(False, help="Continue from the checkpoint in --out."),
    threads: int | None = typer.Option(None, help="CPU threads (default: all cores)."),
    device: str = typer.Option("auto", help="cpu, cuda, cuda:N or auto (CUDA when "
                                            "available)."),
) -> None:
    """Train one of the learned networks on phantoms (and optional user images)."""
    import os
    import shlex
    import sys

    import torch

    from stablerecon.train import TrainConfig, train

    torch.set_num_threads(threads or os.cpu_count() or 1)
    cfg = TrainConfig(net=net, size=size, epochs=epochs, steps=steps, batch=batch, lr=lr,
                      lr_schedule=lr_schedule,
                      seed=seed, noise=noise, rate=rate, pattern=pattern, angles=angles,
                      coils=coils, center_fraction=center_fraction, phase=phase,
                      texture=texture,
                      data_dir=None if data in (None, "brain", "phantoms") else data,
                      dataset="brain" if data == "brain" else "phantoms",
                      validation=validation, time_limit=time_limit, name=name)
    try:
        command = "stablerecon train " + shlex.join(sys.argv[2:])
        card = train(cfg, out, resume=resume, console=console, device=device, command=command)
    except StableReconError as exc:
        _fail(exc)
    console.print(f"[green]wrote[/] {out / card['weights']} and {out / (card['name'] + '.json')}")
    typer.echo(json.dumps(card["validation"], indent=2))


table_app = typer.Typer(no_args_is_help=True,
                        help="The lecture's tables: lasso (Table A), impossibility (Table B).")
app.add_typer(table_app, name="table")


@app.command("sweep")
def sweep_command(
    config: Path = typer.Argument(..., help="The study's TOML file: models, images, tests, "
                                            "budgets, seeds (see stablerecon.sweep.config)."),
    workers: int | None = typer.Option(None, min=1, help="Processes (default: one per "
                                                            "core; one on CUDA)."),
    threads: int | None = typer.Option(None, min=1, help="Torch threads per cell "
                                                            "(default: cores / workers)."),
    ray: bool = typer.Option(False, "--ray", help="Run the cells as Ray tasks (a local Ray "
                                                  "unless --ray-address)."),
    ray_address: str | None = typer.Option(None, help="Address of a running Ray cluster "
                                                         "(implies --ray)."),
    out: Path | None = typer.Option(None, help="Results folder (default: the config's "
                                                  "'out')."),
) -> None:
    """Every audit over models × images × tests × budgets × seeds; resumable (finished cells
    are skipped); aggregate table and plots in the results folder. Exit status 1 if any cell
    failed (its error is in failed/), 2 for a bad configuration."""
    import dataclasses

    from stablerecon.report import sweep as sweep_report
    from stablerecon.sweep import load_config, run

    try:
        cfg = load_config(config)
        if out is not None:
            cfg = dataclasses.replace(cfg, out=out)
        result = run(cfg, workers=workers, threads=threads, ray=ray or bool(ray_address),
                     ray_address=ray_address, console=console)
    except StableReconError as exc:
        _fail(exc)
    for line in sweep_report.sentences(result.aggregate):
        typer.echo(line + "\n")
    console.print(f"{result.total} cells: {result.skipped} finished before, {result.ran} run "
                  f"now, {len(result.failed)} failed; wrote {result.out}", markup=False,
                  highlight=False)
    if result.failed:
        raise typer.Exit(code=1)


def _on_scan(recon, scan):
    """A multi-coil network set to the scan's sampling: it keeps its weights and takes the
    scan's operator (E2E-VarNet uses only the mask, and estimates its own maps)."""
    from stablerecon.operators import MultiCoilFourier

    module = getattr(recon, "module", None)
    own = getattr(module, "A", None)
    if not isinstance(own, MultiCoilFourier):
        raise StableReconError(
            f"--kspace audits a multi-coil reconstructor, and {recon.name!r} is single-coil; "
            "give a multi-coil network (e.g. mri-e2e-varnet) or python:module:fn with "
            "fn(y, A) -> image.")
    if own.in_shape != scan.A.in_shape or own.coils != scan.A.coils:
        raise StableReconError(
            f"{recon.name} reconstructs {own.coils} coils of {own.in_shape}, the scan has "
            f"{scan.A.coils} coils of {scan.A.in_shape}; audit a scan of its size and coil "
            "count (or retrain with --size/--coils).")
    module.A = scan.A
    return recon


def _scan(path: Path, slice_index: int | None, coils_from: str, acceleration: float | None,
          center_fraction: float):
    """The recorded slice of ``stablerecon audit --kspace``, retrospectively undersampled
    with fastMRI's equispaced columns when ``acceleration`` is given."""
    from stablerecon.data.scan import read_scan
    from stablerecon.operators import sampling

    mask = None if acceleration is None else (
        lambda shape: sampling.equispaced_columns(shape, acceleration, center_fraction))
    return read_scan(path, slice_index, mask=mask, coils_from=coils_from)


def _floats(text: str, what: str) -> list[float]:
    try:
        values = [float(v) for v in text.split(",") if v.strip()]
    except ValueError:
        _fail(StableReconError(f"{what} must be comma-separated numbers, got {text!r}."))
    if not values:
        _fail(StableReconError(f"{what} is empty; give e.g. 0.5,0.0078125."))
    return values


def _ints(text: str, what: str) -> list[int]:
    values = _floats(text, what)
    if any(v != int(v) for v in values):
        _fail(StableReconError(f"{what} must be integers, got {text!r}."))
    return [int(v) for v in values]


def _run_table(title: str, total: int, out: Path, stem: str, settings: dict, resume: bool,
               compute) -> list[dict]:
    """Run a table's cells with a progress bar, each finished cell saved in ``out`` (so that
    ``--resume`` continues an interrupted run), the folder checked and locked first."""
    from rich.progress import Progress

    from stablerecon.io import ensure_writable, locked
    from stablerecon.report.tables import TableProgress

    try:
        ensure_writable(out)
        with locked(out, "table"), Progress(console=console, transient=True) as progress:
            saved = TableProgress(out, stem, settings, resume)
            task = progress.add_task(title, total=total)

            def step(text: str) -> None:
                progress.update(task, advance=1, description=text)
            return compute(step, saved.done, saved.save)
    except StableReconError as exc:
        _fail(exc)


def _show_table(rows: list[dict], columns: list[str], title: str, out: Path,
                stem: str) -> None:
    from stablerecon.report.tables import rich_table, write_tables

    Console().print(rich_table(rows, columns, title))
    files = write_tables(rows, columns, out, stem)
    console.print(f"[green]wrote[/] {', '.join(map(str, files))}")


@table_app.command("lasso")
def table_lasso(
    deltas: str | None = typer.Option(
        None, help="Comma-separated δ values (default: 2^-1, 2^-7, ..., 2^-30)."),
    time_cap: float = typer.Option(60.0, "--time-cap", help="Seconds allowed per solver run."),
    out: Path = typer.Option(Path("out/table-lasso"), help="Folder for CSV, JSON, Markdown."),
    resume: bool = typer.Option(False, help="Keep the δ an interrupted run with the same "
                                            "settings finished in --out; run the rest."),
) -> None:
    """Table A: the ill-conditioned lasso that float64 solvers get wrong (and ours certifies)."""
    from stablerecon.experiments import lasso_table

    values = lasso_table.DEFAULT_DELTAS if deltas is None else _floats(deltas, "--deltas")
    settings = {"deltas": values, "time_cap": time_cap}
    rows = _run_table(
        "Table A", len(values) * (len(lasso_table.solvers()) + 1), out, "table-lasso",
        settings, resume,
        lambda step, done, on_cell: lasso_table.run(values, time_cap=time_cap, progress=step,
                                                    done=done, on_cell=on_cell))
    columns = ["delta", "solver", "x", "error", "runtime_s", "warned", "certified", "note"]
    _show_table(rows, columns, "Table A: min (1/m)||A_δ D_δ x - y||² + λ||x||₁", out,
                "table-lasso")


@table_app.command("impossibility")
def table_impossibility(
    ns: str = typer.Option("10,20,30", help="Comma-separated n: ||A_n - A|| <= 2^-n."),
    ks: str = typer.Option("1,3,6", help="Comma-separated K: the barrier 10^-K."),
    samples: int = typer.Option(8000, help="LISTA training samples R."),
    epochs: int = typer.Option(100, help="LISTA training epochs (Adam, float64)."),
    layers: int = typer.Option(10, help="LISTA layers."),
    seed: int = typer.Option(0, help="Seed for the training tails and the initial order."),
    quick: bool = typer.Option(False, help="R = 1000 and 10 epochs: a check, not the table."),
    out: Path = typer.Option(Path("out/table-impossibility"), help="Folder for the files."),
    resume: bool = typer.Option(False, help="Keep the (n, K) cells an interrupted run with "
                                            "the same settings finished in --out; run the "
                                            "rest."),
) -> None:
    """Table B: LISTA and FIRENET from inexact input cannot beat 10^-K (n, K grid)."""
    from stablerecon.experiments import impossibility

    n_values, k_values = _ints(ns, "--ns"), _ints(ks, "--ks")
    if quick:
        samples, epochs = 1000, 10
    settings = {"ns": n_values, "ks": k_values, "samples": samples, "epochs": epochs,
                "layers": layers, "seed": seed}
    rows = _run_table(
        "Table B", len(n_values) * len(k_values) * epochs, out, "table-impossibility",
        settings, resume,
        lambda step, done, on_cell: impossibility.run(
            n_values, k_values, samples=samples, epochs=epochs, layers=layers, seed=seed,
            progress=step, done=done, on_cell=on_cell))
    for r in rows:
        r.update(samples=samples, epochs=epochs, layers=layers, seed=seed)
    columns = ["n", "K", "barrier", "lista_distance", "firenet_distance", "minimiser_gap",
               "A_distance", "lista_train_s"]
    _show_table(rows, columns, "Table B: distance to the true SR-LASSO minimiser", out,
                "table-impossibility")


def main(argv: list[str] | None = None) -> None:
    """The ``stablerecon`` command: the app, with an unexpected exception reported in one
    line and exit status 3 (its traceback under --debug), Ctrl-C as status 130. The
    process keeps the memory it frees (:func:`stablerecon.memory.keep_freed_memory`): the
    solves it runs allocate the same sizes at every iteration."""
    keep_freed_memory()
    try:
        app(argv, prog_name="stablerecon")
    except KeyboardInterrupt:
        console.print("interrupted", markup=False)
        sys.exit(EXIT_INTERRUPTED)
    except Exception as exc:
        if _debug["on"]:
            raise
        console.print("[bold red]internal error:[/] ", end="")
        console.print(f"{type(exc).__name__}: {exc}. This is a bug in stablerecon (or an "
                      "input it does not foresee); rerun with --debug for the traceback and "
                      "report it.", markup=False, emoji=False, highlight=False, soft_wrap=True)
        sys.exit(EXIT_INTERNAL)
