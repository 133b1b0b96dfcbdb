"""Files written whole or not at all (atomic, umask-respecting), JSON with tensors, torch
archives, a writability check before long work, and the keys that name saved results.
Used by train, sweep and report."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

__all__ = ["atomic_write", "digest", "ensure_writable", "locked", "save_torch", "write_json",
           "write_text"]


def atomic_write(path: str | Path, write: Callable[[Path], None]) -> Path:
    """Call ``write(tmp)`` on a temporary file beside ``path``, then rename it into place.

    The rename is atomic on POSIX, so a reader never sees a half-written file, and an
    interrupted run leaves the previous version intact. The file gets the permissions the
    user's umask gives new files (mkstemp alone would leave it 0600).

    Parameters
    ----------
    path : str or Path
        The file to (re)place; its folder is created.
    write : callable
        ``write(tmp)`` writes the whole content to the path ``tmp``.

    Returns
    -------
    Path
        The path written.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=path.suffix)
    os.close(fd)
    try:
        write(Path(tmp))
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def save_torch(path: str | Path, obj: Any) -> Path:
    """``torch.save`` atomically, through a file object so the archive's inner folder is
    named 'archive' and not after the temporary file.

    Parameters
    ----------
    path : str or Path
        The file.
    obj : object
        What to save (tensors, dicts of tensors: loadable with ``weights_only=True``).

    Returns
    -------
    Path
        The path written.
    """
    import torch

    def write(tmp: Path) -> None:
        with open(tmp, "wb") as f:
            torch.save(obj, f)

    return atomic_write(path, write)


def digest(settings: Any, tensors: Iterable[tuple[str, Any]] = (), length: int = 20) -> str:
    """A short key of what decides a saved result, so that a resumed or shared result is
    used only for the same inputs: the settings as sorted JSON, then each tensor's name and
    bytes (on the CPU, contiguous).

    Parameters
    ----------
    settings : object
        JSON-able settings (other values are written as ``str``).
    tensors : iterable of (str, torch.Tensor)
        Named tensors (images, weights, operator buffers) whose values the result depends on.
    length : int
        Hex digits kept.

    Returns
    -------
    str
        The key.
    """
    h = hashlib.sha256(json.dumps(settings, sort_keys=True, default=str).encode())
    for name, value in tensors:
        h.update(name.encode())
        h.update(value.detach().cpu().contiguous().numpy().tobytes())
    return h.hexdigest()[:length]


def ensure_writable(folder: str | Path) -> Path:
    """Create ``folder`` and prove it is writable before long work starts (an audit or a
    training run should not compute for minutes and then fail to save).

    Parameters
    ----------
    folder : str or Path
        The output folder.

    Returns
    -------
    Path
        The folder.

    Raises
    ------
    StableReconError
        When it cannot be created or written to.
    """
    from stablerecon.errors import StableReconError

    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(dir=folder, prefix=".write-test.")
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise StableReconError(f"cannot write to {folder} ({exc.strerror or exc}); choose "
                               "another output folder.") from exc
    return folder


def write_text(path: str | Path, text: str) -> Path:
    """Write text atomically (UTF-8).

    Parameters
    ----------
    path : str or Path
        The file.
    text : str
        Its content.

    Returns
    -------
    Path
        The path written.
    """
    return atomic_write(path, lambda p: p.write_text(text, encoding="utf-8"))


def write_json(path: str | Path, data: Any) -> Path:
    """Write JSON atomically (indented, keys in insertion order; tensors and arrays as
    lists).

    Parameters
    ----------
    path : str or Path
        The file.
    data : object
        JSON-serialisable data.

    Returns
    -------
    Path
        The path written.
    """
    return write_text(path, json.dumps(data, indent=2, default=_json_default) + "\n")


def _json_default(obj: Any) -> Any:
    import numpy as np
    import torch

    if isinstance(obj, torch.Tensor):
        return obj.detach().cpu().tolist()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, (np.floating, np.integer, np.bool_)):
        return obj.item()
    if isinstance(obj, Path):
        return str(obj)
    raise TypeError(f"cannot write {type(obj).__name__} to JSON")


@contextlib.contextmanager
def locked(folder: str | Path, what: str):
    """Hold ``folder/.lock`` while a ``what`` (a sweep, a training run, an audit) writes into
    ``folder``: a second run on the same folder is refused at once instead of mixing its
    files with the first's. The operating system releases the lock when the process ends,
    however it ends (no stale locks after a crash).

    Parameters
    ----------
    folder : str or Path
        The output folder (it must exist).
    what : str
        What the run is, for the message of a refused second run.

    Returns
    -------
    contextmanager
        Holds the lock while the ``with`` block runs.

    Raises
    ------
    StableReconError
        When another process holds the lock."""
    from stablerecon.errors import StableReconError

    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX: no lock
        yield
        return
    folder = Path(folder)
    with open(folder / ".lock", "a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.seek(0)
            raise StableReconError(f"another run is writing to {folder} (process "
                                   f"{handle.read().strip() or '?'}); wait for it to end or "
                                   f"give this {what} another output folder.") from None
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        yield
