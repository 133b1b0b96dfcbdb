"""The report is one file: its figures are embedded, with the alt text their PNGs carry."""

import base64
import re

import torch

from stablerecon.report.figures import image_grid
from stablerecon.report.html import Section, write_report


def test_the_report_embeds_its_figures_and_opens_alone(tmp_path):
    png = image_grid(tmp_path / "figs" / "grid.png", [[torch.rand(8, 8), torch.rand(8, 8)]],
                     [["truth", "Φ: 30.1 dB"]], suptitle="Two images")
    page = write_report(tmp_path / "report.html", "A report", [Section("S", ["text"],
                                                                       figures=[png])])
    html = page.read_text()
    sources = re.findall(r"<img src='([^']*)'", html)
    assert len(sources) == 1 and sources[0].startswith("data:image/png;base64,")
    assert base64.b64decode(sources[0].split(",", 1)[1]) == png.read_bytes()
    alt = re.search(r"alt='([^']*)'", html).group(1)
    assert "Two images" in alt and "truth" in alt and "30.1 dB" in alt
    png.unlink()  # the page does not need the file beside it
    assert "data:image/png;base64," in page.read_text()
