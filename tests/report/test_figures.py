"""Figures are written without touching the user's matplotlib backend."""

import subprocess
import sys


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
