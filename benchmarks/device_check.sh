#!/bin/bash
# The CUDA checks and GPU measurements in one bounded run (about 5 minutes), for a machine
# with a GPU and torch but maybe no internet: the device tests, then the wavelet against
# PyWavelets, the solvers to 1e-6 and benchmarks/gpu.py, each as JSON in $OUT.
#
#   OUT=out/device WHEELS=path/to/wheels PYTHON=python3 bash benchmarks/device_check.sh
#
# WHEELS (optional): a folder of wheels installed with --no-index beside the machine's torch
# (PyWavelets, pydicom, nibabel, nilearn; sigpy, pyproximal and pylops for the peers).
set -u
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
OUT=$(realpath -m "${OUT:-out/device}")
mkdir -p "$OUT"
SITE=$(mktemp -d)
if [ -n "${WHEELS:-}" ]; then
    "$PY" -m pip install -q --no-index --no-deps --target "$SITE" "$WHEELS"/*.whl || exit 1
fi
export PYTHONPATH="$PWD/src:$SITE" PYTHONUNBUFFERED=1
"$PY" -c "import torch; print(torch.__version__, torch.cuda.get_device_name())" 2>/dev/null \
    || { echo "no CUDA device here (or no torch for $PY): this script measures a GPU"; exit 1; }
timeout 150 "$PY" -m pytest -q -p no:cacheprovider -o addopts="" -m "not slow" \
    tests/test_devices.py 2>&1 | tee "$OUT/tests.log" | tail -5
cd benchmarks
timeout 60 "$PY" wavelet.py --gpu-only --rounds 5 --repeat 30 > "$OUT/wavelet_cuda.json"
echo "wavelet rc $?"
timeout 200 "$PY" solvers.py --device cuda --images shepp_logan --cap 15 \
    --out "$OUT/solvers_cuda.json" > /dev/null
echo "solvers rc $?"
timeout 100 "$PY" gpu.py --repeat 10 --audit-steps 30 > "$OUT/gpu.json"
echo "gpu rc $?"
