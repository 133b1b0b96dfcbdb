"""The demo's report opened in a real browser (headless Chromium, 1280 px wide): every image
decodes, nothing is wider than the window, the console stays clean; a screenshot is kept.
Run with ``make test-browser``; skipped, with the reason, where Chromium is not installed."""

import os
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from stablerecon.cli import app
from stablerecon.report.browser import check_page, chromium, to_pdf

pytestmark = [pytest.mark.browser, pytest.mark.skipif(
    chromium() is None, reason="Chromium is not installed (make test-browser installs it "
                               "with apt-get where apt works)")]


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo")
    result = CliRunner().invoke(app, ["demo", "--out", str(out), "--quick"])
    assert result.exit_code == 0, result.output
    return out / "report.html"


def test_the_demo_report_reads_well_in_a_browser(report, tmp_path):
    shot = Path(os.environ.get("BROWSER_SHOT_DIR", tmp_path)) / "report-1280.png"
    seen = check_page(report, width=1280, screenshot=shot)
    assert seen["images"] >= 8 and seen["undecoded"] == []
    assert seen["scroll_width"] <= 1280 and seen["too_wide"] == []
    assert seen["errors"] == []
    assert shot.stat().st_size > 10_000
    alone = tmp_path / "alone" / "report.html"  # mailed on its own: the same page
    alone.parent.mkdir()
    shutil.copy(report, alone)
    assert check_page(alone)["undecoded"] == []


def test_a_broken_image_is_noticed(tmp_path):
    """The check can fail: an image that does not decode is named by its alt text."""
    page = tmp_path / "bad.html"
    page.write_text("<html><head></head><body><img src='missing.png' alt='the lost figure'>"
                    "<div style='width:2000px'>wide</div></body></html>")
    seen = check_page(page)
    assert seen["undecoded"] == ["the lost figure"] and seen["scroll_width"] > 1280


def test_the_report_prints_to_pdf(report, tmp_path):
    pdf = to_pdf(report, tmp_path / "report.pdf")
    assert pdf.read_bytes()[:5] == b"%PDF-" and pdf.stat().st_size > 10_000
