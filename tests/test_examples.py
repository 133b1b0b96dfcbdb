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
}


def test_every_example_is_tested():
    assert sorted(p.name for p in EXAMPLES.glob("*.py")) == sorted(CASES)


@pytest.mark.slow  # four fresh interpreters, ~35 s in all
@pytest.mark.parametrize("name", sorted(CASES))
def test_example_runs(name, tmp_path):
    args, expected = CASES[name]
    if name in ("audit_your_model.py", "sweep_study.py"):
        args = [*args, "--out", str(tmp_path / "out")]
    done = subprocess.run([sys.executable, str(EXAMPLES / name), *args], capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    assert expected in done.stdout, done.stdout
