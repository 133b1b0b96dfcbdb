"""Every script in examples/ runs (with small sizes) and prints what it promises."""

import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"

CASES = {
    "audit_your_model.py": (["--size", "32"], "worst-case/worst-random"),
    "solve_with_certificate.py": (["--size", "32", "--tol", "1e-5"], "converged: True"),
    "reproduce_lasso_table.py": (["--deltas", "0.5", "--time-cap", "20"], "certified:"),
    "sweep_study.py": (["--images", "1", "--steps", "2"], "worst-case r costs Ψ"),
    "multicoil_brain.py": (["--size", "64", "--center-fraction", "0.2"], "Φ (SR-LASSO, db4)"),
}


def test_every_example_is_tested():
    assert sorted(p.name for p in EXAMPLES.glob("*.py")) == sorted(CASES)


@pytest.mark.slow  # five fresh interpreters, ~55 s in all
@pytest.mark.parametrize("name", sorted(CASES))
def test_example_runs(name, tmp_path):
    args, expected = CASES[name]
    if name in ("audit_your_model.py", "sweep_study.py", "multicoil_brain.py"):
        args = [*args, "--out", str(tmp_path / "out")]
    done = subprocess.run([sys.executable, str(EXAMPLES / name), *args], capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    assert expected in done.stdout, done.stdout


@pytest.mark.slow  # a 256² certified solve (~25 s) and an audit
def test_the_readme_python_example_runs(tmp_path):
    import re

    readme = (EXAMPLES.parent / "README.md").read_text()
    code = re.findall(r"```python\n(.*?)```", readme, re.S)[0]
    done = subprocess.run([sys.executable, "-W", "error::RuntimeWarning", "-c", code],
                          cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    assert (tmp_path / "out" / "instability" / "instability.json").is_file()
