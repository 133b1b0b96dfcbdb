"""Test objects and images: generated phantoms, slices of a real brain (the MNI152 template
inside nilearn), images bundled with installed packages, readers for user data (PNG/TIFF,
NPY, DICOM, NIfTI, fastMRI HDF5), recorded multi-coil scans kept as measurements
(``data.scan``), and images named by short specs (``data.specs``)."""

from stablerecon.data import coils, scan
from stablerecon.data.brain import brain_slices
from stablerecon.data.bundled import available, load
from stablerecon.data.phantoms import random_ellipses, shepp_logan, sparse_vector
from stablerecon.data.readers import Image, normalise, read_image
from stablerecon.data.scan import Scan, read_scan

__all__ = [
    "Image",
    "brain_slices",
    "coils",
    "scan",
    "available",
    "load",
    "normalise",
    "random_ellipses",
    "read_image",
    "read_scan",
    "Scan",
    "shepp_logan",
    "sparse_vector",
]
