"""Bad input, generated from tables: every entry point that takes an operator refuses a
tensor in its place by name, and every operator refuses the dtypes it cannot compute in with
the supported list. Each case must end in a StableReconError (a clean one-line error) —
never a foreign exception or a silent result."""

import pytest
import torch

import stablerecon as sr
from stablerecon.errors import StableReconError

M = torch.randn(8, 16)
X = torch.randn(16)
Y = torch.randn(8)

#: entry point -> a call with the matrix M where an operator belongs
TAKES_AN_OPERATOR = {
    "qcbp": lambda A: sr.solvers.qcbp(A, Y, 0.1),
    "u_lasso": lambda A: sr.solvers.u_lasso(A, Y, 0.1),
    "sr_lasso": lambda A: sr.solvers.sr_lasso(A, Y, 0.1),
    "sr_lasso W": lambda A: sr.solvers.sr_lasso(sr.operators.Matrix(M), Y, 0.1, W=A),
    "standard_method": lambda A: sr.solvers.standard_method(A, "mri"),
    "instability": lambda A: sr.audit.instability(lambda y: y, A, X, radii=[0.01], steps=1,
                                                  phi=None),
    "noise": lambda A: sr.audit.noise(lambda y: y, A, X, phi=None),
    "kernel": lambda A: sr.audit.kernel(lambda y: y, A, X),
    "run": lambda A: sr.audit.run(lambda y: y, A, X, ["kernel"], phi=None),
    "FIRENET": lambda A: sr.nets.FIRENET(A, sr.operators.Identity(16), lam=0.1),
    "LISTA": lambda A: sr.nets.LISTA(A),
}
NOT_OPERATORS = {"tensor": M, "array": M.numpy(), "list": M.tolist(), "None": None}


CASES = [(entry, kind) for entry in TAKES_AN_OPERATOR for kind in NOT_OPERATORS
         if not (entry == "sr_lasso W" and kind == "None")]  # W=None means no W: allowed


@pytest.mark.parametrize(("entry", "kind"), CASES)
def test_a_non_operator_is_refused_by_name(entry, kind):
    with pytest.raises(StableReconError, match="must be a stablerecon LinearOperator"):
        TAKES_AN_OPERATOR[entry](NOT_OPERATORS[kind])


OPERATORS = {
    "identity": lambda: sr.operators.Identity((16, 16)),
    "fourier": lambda: sr.operators.SubsampledFourier(
        (16, 16), sr.operators.sampling.uniform((16, 16), 0.5)),
    "radon": lambda: sr.operators.Radon((16, 16), angles=8),
    "wavelet": lambda: sr.operators.Wavelet((16, 16), "db4", levels=2),
    "gradient": lambda: sr.operators.Gradient((16, 16)),
    "multicoil": lambda: sr.operators.MultiCoilFourier(
        (16, 16), sr.operators.sampling.uniform((16, 16), 0.5),
        sr.data.coils.birdcage((16, 16), 2)),
}
BAD_DTYPES = [torch.float16, torch.bfloat16, torch.int64, torch.int32, torch.bool, torch.uint8]


@pytest.mark.parametrize("op", list(OPERATORS))
@pytest.mark.parametrize("dtype", BAD_DTYPES, ids=str)
@pytest.mark.parametrize("direction", ["forward", "adjoint"])
def test_unsupported_dtypes_are_refused_with_the_fix(op, dtype, direction):
    A = OPERATORS[op]()
    shape = A.in_shape if direction == "forward" else A.out_shape
    x = torch.ones(shape).to(dtype)
    with pytest.raises(StableReconError, match=r"dtype torch\.\w+ is not.*(x\.float\(\))"):
        (A if direction == "forward" else A.H)(x)


MRI = lambda: sr.operators.SubsampledFourier(  # noqa: E731
    (16, 16), sr.operators.sampling.uniform((16, 16), 0.5))
#: network → (its operator, the size arguments it takes)
NETWORK_SIZES = {
    sr.nets.DeepCascade: (MRI, ["cascades", "depth", "width"]),
    sr.nets.VariationalNetwork: (MRI, ["steps", "filters", "kernel"]),
    sr.nets.DAGAN: (MRI, ["width", "depth"]),
    sr.nets.FBPConvNet: (lambda: sr.operators.Radon((16, 16), angles=8), ["width", "depth"]),
    sr.nets.DnCNN: (lambda: sr.operators.Identity((16, 16)), ["depth", "width"]),
    sr.nets.LISTA: (lambda: sr.operators.Matrix(M), ["layers"]),
    sr.nets.E2EVarNet: (OPERATORS["multicoil"],
                        ["cascades", "width", "depth", "sens_width", "sens_depth"]),
}
BAD_SIZES = {"zero": 0, "negative": -2, "absurd": 10**7, "fraction": 2.5, "boolean": True,
             "string": "8", "NaN": float("nan")}
SIZE_CASES = [(net, key, bad) for net, (_, keys) in NETWORK_SIZES.items() for key in keys
              for bad in BAD_SIZES]


@pytest.mark.parametrize(("net", "key", "bad"), SIZE_CASES,
                         ids=[f"{n.__name__}-{k}-{b}" for n, k, b in SIZE_CASES])
def test_a_bad_architecture_size_is_refused_before_anything_is_built(net, key, bad):
    make_A, _ = NETWORK_SIZES[net]
    with pytest.raises(StableReconError, match=f"{net.__name__} {key} must be an integer"):
        net(make_A(), **{key: BAD_SIZES[bad]})
