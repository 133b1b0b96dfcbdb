"""Test objects and images: generated phantoms, slices of a real brain (the MNI152 template
inside nilearn), images bundled with installed packages, readers for user data (PNG/TIFF,
NPY, DICOM, NIfTI, fastMRI HDF5), and images named by short specs (``data.specs``)."""

from stablerecon.data import coils
from stablerecon.data.brain import brain_slices
from stablerecon.data.bundled import available, load
from stablerecon.data.phantoms import random_ellipses, shepp_logan, sparse_vector
from stablerecon.data.readers import Image, normalise, read_image

__all__ = [
    "Image",
    "brain_slices",
    "coils",
    "available",
    "load",
    "normalise",
    "random_ellipses",
    "read_image",
    "shepp_logan",
    "sparse_vector",
]
