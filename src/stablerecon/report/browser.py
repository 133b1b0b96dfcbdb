"""The report as a reader's browser shows it: headless Chromium opens ``report.html`` at a
given width and says whether every image decoded, whether anything is wider than the
window and what the console reported; it also saves a screenshot, and prints the page to
PDF (the form reviewers archive). Chromium is optional (Debian's ``chromium`` package);
:func:`chromium` says where it is, or None."""

from __future__ import annotations

import html as html_lib
import json
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from stablerecon.errors import StableReconError

#: run in the page once it has loaded: what the check reports, as JSON in a <pre>
_PROBE = """<script>
window.__errors = [];
window.addEventListener('error', e => window.__errors.push(String(e.message || e.type)));
const _error = console.error;
console.error = (...a) => { window.__errors.push(a.join(' ')); _error(...a); };
window.addEventListener('load', () => {
  const imgs = [...document.images];
  const wide = [...document.body.querySelectorAll('*')]
    .filter(el => el.getBoundingClientRect().right > window.innerWidth + 1)
    .map(el => el.tagName);
  const out = document.createElement('pre');
  out.id = '__check';
  out.textContent = JSON.stringify({
    images: imgs.length,
    undecoded: imgs.filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.alt),
    scroll_width: document.documentElement.scrollWidth, window_width: window.innerWidth,
    too_wide: wide, errors: window.__errors});
  document.body.appendChild(out);
});
</script>"""


def chromium() -> str | None:
    """The Chromium executable on PATH, or None."""
    for name in ("chromium", "chromium-browser", "google-chrome", "chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


def _run(args: list[str], timeout: float) -> subprocess.CompletedProcess:
    exe = chromium()
    if exe is None:
        raise StableReconError("Chromium is not installed; install Debian's chromium package "
                               "(apt-get install chromium), or open the report yourself.")
    base = [exe, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
            "--no-first-run", "--disable-dev-shm-usage"]
    try:
        return subprocess.run(base + args, capture_output=True, text=True, timeout=timeout,
                              check=False)
    except subprocess.TimeoutExpired:
        raise StableReconError(f"Chromium did not finish within {timeout:.0f} s.") from None


def check_page(path: str | Path, width: int = 1280, screenshot: str | Path | None = None,
               timeout: float = 120.0) -> dict[str, Any]:
    """Open ``path`` in headless Chromium ``width`` pixels wide and report what a reader meets.

    Parameters
    ----------
    path : str or Path
        The HTML page (it is not changed: a copy with the probe script is opened).
    width : int
        The window's width in pixels.
    screenshot : str or Path, optional
        Save a PNG of the page's top here.
    timeout : float
        Seconds Chromium may take.

    Returns
    -------
    dict
        ``images`` (count), ``undecoded`` (alt texts of images that did not decode),
        ``scroll_width`` and ``window_width``, ``too_wide`` (tags of elements past the
        window's right edge) and ``errors`` (script errors and ``console.error`` lines).
    """
    page = Path(path)
    if not page.is_file():
        raise StableReconError(f"no page at {page}; write the report first.")
    html = page.read_text(encoding="utf-8")
    probed = html.replace("</head>", _PROBE + "</head>", 1) if "</head>" in html else \
        _PROBE + html
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / page.name
        copy.write_text(probed, encoding="utf-8")
        size = f"--window-size={width},1000"
        done = _run([size, "--virtual-time-budget=10000", "--dump-dom", copy.as_uri()],
                    timeout)
        if screenshot is not None:
            _run([size, f"--screenshot={Path(screenshot).resolve()}", page.resolve().as_uri()],
                 timeout)
    marker = '<pre id="__check">'
    start = done.stdout.find(marker)
    if start < 0:
        raise StableReconError(f"Chromium did not run the page's check (exit {done.returncode}):"
                               f" {done.stderr.strip()[-300:]}")
    text = done.stdout[start + len(marker):done.stdout.index("</pre>", start)]
    return json.loads(html_lib.unescape(text))


def to_pdf(path: str | Path, pdf: str | Path, timeout: float = 120.0) -> Path:
    """Print the page ``path`` to ``pdf`` with headless Chromium.

    Parameters
    ----------
    path : str or Path
        The HTML page.
    pdf : str or Path
        The PDF to write.
    timeout : float
        Seconds Chromium may take.

    Returns
    -------
    Path
        The PDF.
    """
    from stablerecon.io import atomic_write

    def write(tmp: Path) -> None:
        done = _run(["--no-pdf-header-footer", f"--print-to-pdf={tmp.resolve()}",
                     Path(path).resolve().as_uri()], timeout)
        if not tmp.is_file() or tmp.stat().st_size == 0:
            raise StableReconError(f"Chromium wrote no PDF (exit {done.returncode}): "
                                   f"{done.stderr.strip()[-300:]}")

    return atomic_write(pdf, write)
