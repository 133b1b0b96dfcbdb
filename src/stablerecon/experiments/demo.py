"""The main job behind ``make demo``: the lecture's story on one MRI problem, as a report.

A 128² held-out brain slice (MNI152 template, axial slice 100; ``image="phantom"`` gives the
Shepp–Logan phantom), the variable-density 25% mask the shipped networks were trained for,
and four reconstructions from the same measurements: the zero-filled A*y, the standard
method Φ (SR-LASSO, x constrained real as the image is, certified), the shipped deep
cascade Ψ (trained on the brain's training slices) and the FIRENET. Then the audits, each
with Ψ and Φ side by side: worst-case perturbations (and FIRENET under the same test), the
worst of 100 random perturbations of the same size, the kernel certificate with its false
positive/negative and hallucination maps, and the accuracy test (the smallest text Φ
recovers). When the shipped multi-coil E2E-VarNet is installed, a second part repeats the
contrast where clinical networks live: 8 receive coils, a random smooth phase, fastMRI's
equispaced 4× mask with an 8 % centre (:func:`multicoil_part`). Everything goes to ``out/``
as PNG + JSON, summarised in ``out/report.html``.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import torch
from rich.console import Console

from stablerecon import audit, metrics, nets, solvers
from stablerecon.data import brain, shepp_logan
from stablerecon.devices import resolve_device
from stablerecon.errors import StableReconError
from stablerecon.io import ensure_writable, locked
from stablerecon.report import image_row, write_json
from stablerecon.report.contrast import contrast_plot
from stablerecon.report.describe import contrast, describe
from stablerecon.report.html import Section, write_report


def _quality(x_hat: torch.Tensor, x: torch.Tensor) -> dict[str, float]:
    return {"psnr_db": metrics.psnr(x_hat, x), "ssim": metrics.ssim(x_hat, x),
            "relative_error": metrics.relative_error(x_hat.abs(), x.abs())}


#: the demo's held-out brain slice: axial slice 100 of the MNI152 template (test split)
BRAIN_SLICE = 100


def demo_image(name: str, size: int, device: torch.device) -> tuple[torch.Tensor, str]:
    """The demo's image and its description: ``"brain"`` or ``"phantom"``."""
    if name == "brain":
        x = torch.as_tensor(brain.held_out_slice(BRAIN_SLICE, size), dtype=torch.float32)
        return x.to(device), (f"held-out brain slice (MNI152 T1 template, axial slice "
                              f"{BRAIN_SLICE}, never seen in training)")
    if name == "phantom":
        return shepp_logan(size, device=device), "modified Shepp–Logan phantom"
    raise StableReconError(f"unknown demo image {name!r}; choose 'brain' or 'phantom'.")


#: the shipped multi-coil network of the demo's second part
MULTICOIL_NET = "mri-e2e-varnet"


def multicoil_part(out: Path, quick: bool, seed: int, console: Console,
                   device: torch.device) -> tuple[dict[str, Any], list[Section]]:
    """The contrast on multi-coil k-space: Ψ = the shipped E2E-VarNet, Φ = SR-LASSO (db4,
    complex x, certified) on the network's own operator (8 birdcage coils, equispaced 4×,
    8 % centre), at the held-out brain slice times a smooth random phase (seeded by
    ``seed``); worst-case perturbations with Φ under the same r, then the worst of K random
    ones. Returns the metrics and the report's sections."""
    from stablerecon.data.coils import smooth_phase

    A = nets.operator_for(MULTICOIL_NET).to(device)
    psi = nets.load(MULTICOIL_NET, device=device)
    size = A.in_shape[0]
    magnitude, described = demo_image("brain", size, device)
    x = magnitude.to(torch.complex64) * smooth_phase(A.in_shape, seed=seed).to(device)
    coils = A.out_shape[0]
    console.print(f"multi-coil MRI {size}x{size}, {coils} coils, equispaced columns, rate "
                  f"{A.rate:.3f}")
    phi = audit.as_reconstructor(
        solvers.standard_method(A, "mri", tol=1e-3, max_iter=300 if quick else 4000),
        name="Φ (SR-LASSO, db4)")
    psi_r = audit.as_reconstructor(psi)
    clean = audit.clean_outputs(psi_r, phi, A, x)
    cert = phi.module.last_result.summary()
    recons = {"RSS of A* y (zero-filled)": A.H(clean.y).abs(),
              "Φ: SR-LASSO (certified)": clean.phi.abs(),
              "Ψ: E2E-VarNet (shipped)": clean.psi.abs()}
    quality = {k: _quality(v, magnitude) for k, v in recons.items()}
    for name, q in quality.items():
        console.print(f"  {name}: PSNR {q['psnr_db']:.2f} dB, SSIM {q['ssim']:.3f}")
    folder = out / "multicoil"
    fig = image_row(folder / "reconstructions.png", [magnitude, *recons.values()],
                    ["|x|", *[f"{k}\n{quality[k]['psnr_db']:.1f} dB" for k in recons]])
    steps = 3 if quick else 30
    radii = (0.02,) if quick else (0.01, 0.02, 0.04)
    console.print(f"audits of the E2E-VarNet beside Φ ({steps} ascent steps per δ)")
    tests = audit.run(psi, A, x, ["instability", "noise"], radii=radii, steps=steps,
                      seed=seed, phi=phi, clean=clean,
                      options={"noise": {"K": (1, 20, 100), "phi_K": 1 if quick else 5}})
    figures = [fig]
    for name, res in tests.items():
        figures += _pngs(res, folder / name)
    said = contrast(tests["instability"], tests["noise"],
                    quality["Ψ: E2E-VarNet (shipped)"]["psnr_db"],
                    quality["Φ: SR-LASSO (certified)"]["psnr_db"])
    metrics_out = {"image": described + ", times a smooth random phase", "size": size,
                   "coils": coils, "rate": A.rate, "reconstructions": quality,
                   "phi_certificate": cert, "contrast": said,
                   **{k: v.metrics for k, v in tests.items()}}
    section = Section(
        "Multi-coil MRI: the same contrast with 8 receive coils",
        [f"{coils} simulated receive coils (birdcage maps), fastMRI's equispaced 4× column "
         f"mask with an 8 % fully sampled centre ({100 * A.rate:.1f}% of k-space), the "
         f"{described} times a smooth random phase. Ψ is the shipped E2E-VarNet "
         f"({MULTICOIL_NET}: coil maps estimated from the centre, coil-weighted data "
         f"consistency, magnitude output); Φ is SR-LASSO with db4 wavelets on the same "
         f"operator, {cert['status']} in {cert['iterations']} iterations (certified relative "
         f"gap {cert['certificate']['relative_gap']:.1e}). Scores compare magnitudes.",
         *said["sentences"], *describe(tests["instability"]), *describe(tests["noise"])],
        [([{"method": k, **{m: round(v, 4) for m, v in q.items()}} for k, q in quality.items()],
          ["method", "psnr_db", "ssim", "relative_error"])],
        [contrast_plot(folder / "contrast.png", tests["instability"], tests["noise"],
                       psi="E2E-VarNet"), *figures])
    return metrics_out, [section]


def _pngs(result: audit.AuditResult, folder: Path) -> list[Path]:
    """Save an audit's result into ``folder``; its figures (for the report)."""
    return [f for f in result.save(folder) if f.suffix == ".png"]


def run_demo(out: Path, quick: bool = False, seed: int = 0,
             console: Console | None = None, device: str | torch.device = "cpu",
             image: str = "brain", multicoil: bool = True) -> dict[str, Any]:
    """Run the demo into ``out`` on ``device`` (``"auto"``: CUDA when present) on ``image``
    (``"brain"`` or ``"phantom"``); ``quick`` shortens every search (for tests);
    ``multicoil`` adds the multi-coil part when its network is installed."""
    console = console or Console(stderr=True)
    out = ensure_writable(out)
    with locked(out, "demo"):
        return _run(out, quick, seed, console, device, image, multicoil)


def _run(out: Path, quick: bool, seed: int, console: Console, device: str | torch.device,
         image: str, multicoil: bool) -> dict[str, Any]:
    t0 = time.perf_counter()
    device = resolve_device(device)
    have_cascade = "mri-cascade" in nets.available()
    firenet = nets.load("mri-firenet", device=device)
    A = firenet.operator
    size = A.in_shape[0]
    x, described = demo_image(image, size, device)
    xc = x.to(torch.complex64)
    y = A(xc)
    console.print(f"MRI {size}x{size}, variable-density mask, rate {A.rate:.3f}, on {device}")
    # x real converges about 4x slower than complex x (measured on this slice: relative gap
    # 1e-3 after 1690 iterations against 380); in float32 1e-3 is the target it certifies
    phi = audit.as_reconstructor(
        solvers.standard_method(A, "mri", tol=1e-3, max_iter=300 if quick else 3000, real=True),
        name="Φ (SR-LASSO, x real)")
    cascade = nets.load("mri-cascade", device=device) if have_cascade else None
    # Φ(Ax) and Ψ(Ax) once: the reconstructions below and every audit of the cascade share them
    clean = (audit.clean_outputs(audit.as_reconstructor(cascade), phi, A, xc) if have_cascade
             else None)
    with torch.no_grad():
        recons = {"A* y (zero-filled)": A.H(y),
                  "Φ: SR-LASSO (certified)": clean.phi if clean is not None else phi(y)}
        cert = phi.module.last_result.summary()
        if have_cascade:
            recons["Ψ: deep cascade (shipped)"] = clean.psi
        recons["FIRENET"] = firenet(y)
    result: dict[str, Any] = {"image": described, "size": size, "rate": A.rate,
                              "device": str(device),
                              "reconstructions": {k: _quality(v, x) for k, v in recons.items()},
                              "phi_certificate": cert, "seed": seed}
    for name, q in result["reconstructions"].items():
        console.print(f"  {name}: PSNR {q['psnr_db']:.2f} dB, SSIM {q['ssim']:.3f}")
    fig_recon = image_row(out / "reconstructions.png", [x, *recons.values()],
                          ["truth", *[f"{k}\n{result['reconstructions'][k]['psnr_db']:.1f} dB"
                                      for k in recons]])
    sections = [Section(
        "Reconstructions from the same measurements",
        [f"Subsampled Fourier ({100 * A.rate:.0f}% variable density), {size}×{size} "
         f"{described}. Φ is SR-LASSO with db4 wavelets and x constrained real, solved by the "
         f"restarted primal-dual method: {cert['status']} in {cert['iterations']} "
         f"iterations, certified relative duality gap "
         f"{cert['certificate']['relative_gap']:.1e} (target 1e-3)."],
        [([{"method": k, **{m: round(v, 4) for m, v in q.items()}}
           for k, q in result["reconstructions"].items()],
          ["method", "psnr_db", "ssim", "relative_error"])], [fig_recon])]
    steps = 3 if quick else 30
    radii = (0.02,) if quick else (0.01, 0.02, 0.04)
    cascade_tests: dict[str, audit.AuditResult] = {}
    if have_cascade:
        console.print(f"audits of the cascade beside Φ ({steps} ascent steps per δ)")
        cascade_tests = audit.run(
            cascade, A, x, ["instability", "noise", "kernel", "accuracy"], radii=radii,
            steps=steps, seed=seed, phi=phi, clean=clean,
            options={"noise": {"K": (1, 20, 100), "phi_K": 1 if quick else 5},
                     "accuracy": {"detail": "text", "iterations": 1 if quick else 6}})
    inst = {"cascade": cascade_tests["instability"]} if have_cascade else {}
    console.print(f"instability test on firenet ({1 if quick else 8} steps per δ)")
    inst["firenet"] = audit.instability(firenet, A, x, radii=radii, steps=1 if quick else 8,
                                        seed=seed, phi=None)
    for name, res in inst.items():
        res.metrics["model"] = name
    rows, files = [], []
    for name, res in inst.items():
        files += res.save(out / f"instability-{name}")
        for row in res.metrics["perturbations"]:
            rows.append({"model": name, "|r|/|x|": row["r_rel"],
                         "output change": row["psi"]["change_rel"],
                         "amplification": row["psi"]["amplification"],
                         "PSNR": row["psi"]["psnr"], "PSNR lost": row["psi"]["psnr_drop"],
                         "Φ change": row.get("phi", {}).get("change_rel"),
                         "Φ amplification": row.get("phi", {}).get("amplification"),
                         "Φ PSNR": row.get("phi", {}).get("psnr"),
                         "Φ PSNR lost": row.get("phi", {}).get("psnr_drop")})
    bound = firenet.lipschitz_bound()
    fire = inst["firenet"]
    fire_gain = max(float((moved - fire.images["psi_clean"]).norm() / r.norm())
                    for r, moved in zip(fire.perturbations(), fire.outputs("psi")))
    result["instability"] = {k: v.metrics for k, v in inst.items()}
    result["firenet_lipschitz"] = {"certified_upper_bound": bound,
                                   "gain_found_by_attack": fire_gain}
    sections.append(Section(
        "Instability test: worst-case perturbations",
        ["Projected gradient ascent on ||Ψ(A(x + r)) − Ψ(Ax)|| with ||r|| ≤ δ||x||; the same r "
         "is given to Φ. Amplification = (output change / ||Ψ(Ax)||) / (||r|| / ||x||); PSNR "
         "lost = PSNR of the unperturbed output minus PSNR of the perturbed one.",
         *[f"{name} (Ψ), under its own worst case: " + " ".join(describe(res))
           for name, res in inst.items()],
         f"FIRENET's Lipschitz constant is certified ≤ {bound:.3g} from its structure (see "
         f"sr.nets.FIRENET.lipschitz_bound); the attack found ||ΔΨ||/||Δy|| = {fire_gain:.3g}: "
         "stability bounded from both sides."],
        [(rows, list(rows[0]))], [f for f in files if f.suffix == ".png"]))
    if have_cascade:
        result.update({k: v.metrics for k, v in cascade_tests.items() if k != "instability"})
        for name, title in (("noise", "Random-noise test: the worst of K random perturbations "
                                      "of the worst case's size"),
                            ("kernel", "Kernel certificate (Universal Instability Theorem)"),
                            ("accuracy", "Accuracy test: can Ψ see a small detail?")):
            sections.append(Section(title, describe(cascade_tests[name]),
                                    figures=_pngs(cascade_tests[name], out / name)))
        rec = result["reconstructions"]
        result["contrast"] = contrast(cascade_tests["instability"], cascade_tests["noise"],
                                      rec["Ψ: deep cascade (shipped)"]["psnr_db"],
                                      rec["Φ: SR-LASSO (certified)"]["psnr_db"])
        own = fire.metrics["perturbations"][-1]["psi"]  # FIRENET under its own worst case
        result["contrast"]["numbers"].update(psnr_lost_firenet=own["psnr_drop"],
                                             amplification_firenet=own["amplification"])
        result["contrast"]["sentences"].append(
            f"FIRENET, attacked directly at the same size, loses {own['psnr_drop']:.1f} dB "
            f"and moves {own['amplification']:.1f}× (its Lipschitz constant is certified "
            f"≤ {bound:.3g}).")
        headline = contrast_plot(out / "contrast.png", cascade_tests["instability"],
                                 cascade_tests["noise"], fire, psi="cascade")
        sections.insert(0, Section("What the numbers show", result["contrast"]["sentences"],
                                   figures=[headline]))
    else:
        sections.append(Section("Shipped networks", ["mri-cascade is not installed: the "
                                                     "network audits were skipped."]))
    if multicoil and MULTICOIL_NET in nets.available():
        result["multicoil"], more = multicoil_part(out, quick, seed, console, device)
        sections += more
    result["runtime_s"] = time.perf_counter() - t0
    metrics_file = write_json(out / "metrics.json", result)
    report = write_report(out / "report.html", "stablerecon demo: can this MRI reconstruction "
                                               "be trusted?", sections)
    return {"metrics": result, "files": [report, metrics_file, fig_recon]}
