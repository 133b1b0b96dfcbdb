"""Figures are written without touching the user's matplotlib backend, and are laid out so
that no text hides under an image or another text."""

import subprocess
import sys

import pytest

from stablerecon.report.figures import DPI, MIN_FONT_PT, PAGE_PX, grid_figure, plot_figure


def test_importing_and_drawing_keeps_the_users_backend(tmp_path):
    code = ("import matplotlib; matplotlib.use('svg');"
            "import stablerecon, torch; from stablerecon.report.figures import image_grid;"
            f"image_grid(r'{tmp_path / 'g.png'}', [[torch.rand(8, 8)]], [['x']]);"
            "print(matplotlib.get_backend())")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "svg"
    assert (tmp_path / "g.png").read_bytes()[:4] == b"\x89PNG"


def test_the_library_imports_without_drawing():
    """Results are data: importing the package (audits included) loads neither the report
    layer nor matplotlib."""
    code = ("import sys, stablerecon, stablerecon.audit, stablerecon.sweep;"
            "print('matplotlib' in sys.modules, 'stablerecon.report' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.split() == ["False", "False"]


LONG = "FIRENET: 31.6 dB, gain 4.7, under the worst case found by the ascent\n|Δ| ×4.7"


def _drawn(fig):
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    return canvas.get_renderer()


def _overlap(a, b) -> bool:
    return a.x0 < b.x1 and b.x0 < a.x1 and a.y0 < b.y1 and b.y0 < a.y1


def _check(fig, texts, images):
    renderer = _drawn(fig)
    boxes = [t.get_window_extent(renderer) for t in texts if t.get_text()]
    frames = [ax.get_window_extent(renderer) for ax in images]
    page = fig.bbox
    assert fig.get_figwidth() * DPI <= PAGE_PX + 1  # shown at full size in the report
    for t in texts:
        assert t.get_fontsize() >= MIN_FONT_PT, t.get_text()
    for i, box in enumerate(boxes):
        assert page.x0 <= box.x0 and box.x1 <= page.x1 + 1 and box.y1 <= page.y1 + 1
        assert not any(_overlap(box, frame) for frame in frames), texts[i].get_text()
        assert not any(_overlap(box, other) for other in boxes[i + 1:]), texts[i].get_text()


@pytest.mark.parametrize("n_rows", [1, 2, 3, 4])
@pytest.mark.parametrize("n_cols", [1, 2, 4, 6])
def test_image_figures_never_overlap_and_stay_readable(n_rows, n_cols):
    """Issue 29: in the two-row figures the second row's titles hid under the first row's
    images. Every grid, long two-line titles and a title included: no text touches an image
    or another text, nothing leaves the figure, every font ≥ 9 pt at the size shown."""
    import torch

    rows = [[torch.rand(32, 32) for _ in range(n_cols)] for _ in range(n_rows)]
    titles = [[LONG if (i + j) % 2 else f"Ψ(Ax) row {i}" for j in range(n_cols)]
              for i in range(n_rows)]
    fig = grid_figure(rows, titles, suptitle="Worst-case perturbations r_j with "
                                              "||r_j|| ≤ δ_j||x|| and their effect on Ψ")
    images = [ax for ax in fig.axes if ax.images]
    _check(fig, [fig._suptitle, *(ax.title for ax in images)], images)


def test_plots_never_overlap():
    fig = plot_figure([0.005, 0.01, 0.02, 0.04],
                      {"Ψ under its worst case": [1, 3, 7, 19], "Φ under the same r": [0, 1, 2, 3],
                       "Ψ, worst of 100 random": ([0.04], [8.0])},
                      "||r|| / ||x||", "PSNR lost (dB)", title="What a worst-case r of each "
                      "size costs Ψ, and what the same r costs Φ")
    _drawn(fig)
    ax = fig.axes[0]
    (x0, x1), (y0, y1) = ax.get_xlim(), ax.get_ylim()
    ticks = [t for t in ax.get_xticklabels() if x0 <= t.get_position()[0] <= x1]
    ticks += [t for t in ax.get_yticklabels() if y0 <= t.get_position()[1] <= y1]
    legend = fig.legends[0].get_texts()
    texts = [ax.title, ax.xaxis.label, ax.yaxis.label, *ticks, *legend]
    _check(fig, texts, [ax])  # the legend stays off the data
