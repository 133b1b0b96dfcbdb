"""Table A: the exact minimiser, the certified solver, and the command."""

import json
import random

import mpmath
import pytest
from typer.testing import CliRunner

from stablerecon.cli import app
from stablerecon.errors import StableReconError
from stablerecon.experiments import lasso_table as t


def _independent_minimiser(delta):
    """Closed form, derived by hand: column 2 of A_δ is (1, -1, 0)/√2 for every δ, so
    B e₂ = √3 (1, -1, 0)/√2, Bᵀy has second entry √3 and BᵀB has (2, 2) entry 3. On the
    support {2} with positive sign, (2/3)(√3 - 3 x₂) = λ gives x₂ = 1/√3 - λ/2; this is the
    minimiser iff coordinate 1 meets |(2/3)(Bᵀ(y - Bx))₁| ≤ λ, checked here at 200 digits."""
    with mpmath.workdps(200):
        x2 = 1 / mpmath.sqrt(3) - mpmath.mpf(t.LAM) / 2
        b, y = t.problem_matrix(delta)
        r = [y[i] - b[i][1] * x2 for i in range(3)]
        g1 = 2 * sum(b[i][0] * r[i] for i in range(3)) / 3
        assert abs(g1) <= t.LAM
        return [mpmath.mpf(0), x2]


@pytest.mark.parametrize("delta", t.DEFAULT_DELTAS)
def test_exact_minimiser_matches_an_independent_derivation(delta):
    ours = t.exact_minimiser(delta)
    ref = _independent_minimiser(delta)
    assert max(abs(a - b) for a, b in zip(ours, ref)) < mpmath.mpf(10) ** -90


def _check_certified(delta):
    """The certified solver must certify (default precision cap 1000 digits suffices for
    δ ≥ 2^-40) and its bound must hold against an independent minimiser."""
    res = t.certified_lasso(delta, target_digits=8)
    assert res.certified and res.x is not None, res.message
    x_star = _independent_minimiser(delta)
    err = mpmath.sqrt(sum((mpmath.mpf(a) - b) ** 2 for a, b in zip(res.x, x_star)))
    assert err <= res.error_bound <= 1e-8 * max(map(abs, res.x))


@pytest.mark.parametrize("delta", t.DEFAULT_DELTAS)
def test_certified_solver_is_right_on_the_default_deltas(delta):
    _check_certified(delta)


def test_certified_solver_is_right_on_random_deltas():
    rng = random.Random(0)
    for _ in range(20):
        _check_certified(2.0 ** rng.uniform(-40, -1))


def test_certified_solver_refuses_when_precision_is_capped():
    res = t.certified_lasso(2.0**-30, target_digits=8, max_digits=16)
    assert not res.certified and res.x is None and "cannot certify" in res.message


def test_float64_solvers_fail_where_the_lecture_says():
    """At δ = 2^-30 float64 coordinate descent returns a wrong minimiser; the certified
    solver does not. (A property of the problem, not a hard-coded table.)"""
    pytest.importorskip("sklearn")
    rows = t.run([2.0**-30], time_cap=20)
    by = {r["solver"]: r for r in rows}
    assert by["sklearn Lasso (defaults)"]["error"] > 0.1
    assert by[t.CERTIFIED]["certified"] and by[t.CERTIFIED]["error"] < 1e-12


def test_command_writes_the_three_files(tmp_path):
    result = CliRunner().invoke(app, ["table", "lasso", "--deltas", "0.5,0.0078125",
                                      "--time-cap", "10", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    rows = json.loads((tmp_path / "table-lasso.json").read_text())
    assert {r["solver"] for r in rows} >= {t.CERTIFIED}
    assert set(rows[0]) >= {"delta", "solver", "x", "error", "runtime_s", "warned", "certified"}
    assert (tmp_path / "table-lasso.csv").read_text().startswith("delta,solver,x,error")
    assert (tmp_path / "table-lasso.md").exists()


def test_command_rejects_bad_deltas(tmp_path):
    result = CliRunner().invoke(app, ["table", "lasso", "--deltas", "2,abc", "--out",
                                      str(tmp_path)])
    assert result.exit_code == 2


@pytest.mark.parametrize("kwargs", [{"deltas": [1.5]}, {"deltas": []},
                                    {"deltas": [0.5], "time_cap": 0}])
def test_the_library_checks_its_inputs(kwargs):
    with pytest.raises(StableReconError, match=r"deltas \(the lasso's δ\)|time_cap"):
        t.run(**kwargs)
