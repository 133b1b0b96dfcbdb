"""Forward maps A and sparsifying transforms W, all following one LinearOperator protocol."""

from stablerecon.operators import sampling
from stablerecon.operators.base import AdjointCheck, LinearOperator, RealInput, stack
from stablerecon.operators.fourier import SubsampledFourier
from stablerecon.operators.gradient import Gradient
from stablerecon.operators.matrix import Identity, Matrix, dct_rows, gaussian
from stablerecon.operators.multicoil import MultiCoilFourier
from stablerecon.operators.radon import Radon
from stablerecon.operators.wavelet import Wavelet

__all__ = [
    "AdjointCheck",
    "Gradient",
    "Identity",
    "LinearOperator",
    "Matrix",
    "MultiCoilFourier",
    "Radon",
    "RealInput",
    "SubsampledFourier",
    "Wavelet",
    "dct_rows",
    "gaussian",
    "sampling",
    "stack",
]
