"""The charts' canvas reads its fonts from memory and draws exactly what matplotlib's own Agg
canvas draws: same measurements, same pixels, the same warning for a missing glyph."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.textpath import text_to_path

from charts import render
from charts.canvas import Canvas, measure
from charts.style import HEADING_SIZE, TEXT_SIZE, TITLE_SIZE, font
from tests.test_charts import VIETNAMESE, all_figures

TEXTS = [
    VIETNAMESE,
    "Ho da van dong - Xa Binh Son",  # as typed without diacritics
    "Ho\u0302\u0323 đã vận động",  # decomposed marks, as some keyboards send them
    "12 hộ / 20 hộ (60 %) — 2,5 tr ₫",
    "Đội 3 🏠 xong!",  # an emoji: not in DejaVu Sans, drawn from the fallback font
    "",
]


@pytest.mark.parametrize("text", TEXTS)
@pytest.mark.parametrize("size", [TEXT_SIZE, HEADING_SIZE, TITLE_SIZE])
@pytest.mark.parametrize("bold", [False, True])
def test_measures_as_matplotlib_does(text: str, size: float, bold: bool) -> None:
    prop = font(size, bold=bold)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the emoji's missing glyph, tested below
        assert measure(text, prop) == pytest.approx(
            text_to_path.get_text_width_height_descent(text, prop, ismath=False), abs=1e-9
        )


def _pixels(fig: Figure, canvas: type[FigureCanvasAgg]) -> np.ndarray:
    canvas(fig).draw()
    return np.asarray(fig.canvas.buffer_rgba()).copy()


@pytest.mark.parametrize("title", [VIETNAMESE, "Đội 3 🏠 xong — Xã Phú Lãm, 12 hộ"])
def test_draws_what_the_stock_canvas_draws_pixel_for_pixel(title: str) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for fig in all_figures(title):
            ours = _pixels(fig, Canvas)
            stock = _pixels(fig, FigureCanvasAgg)
            again = _pixels(fig, Canvas)  # with the fonts already used
            assert ours.shape == stock.shape
            assert (ours == stock).all()
            assert (again == stock).all()


def test_a_missing_glyph_still_warns() -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        render(all_figures("Đội 3 🏠")[0])
    assert [w for w in caught if "Glyph" in str(w.message) and "missing" in str(w.message)]


def _read_calls() -> int:
    """Read system calls this process has made (Linux)."""
    with open("/proc/self/io", encoding="ascii") as io:
        return next(int(line.split()[1]) for line in io if line.startswith("syscr:"))


@pytest.mark.skipif(not Path("/proc/self/io").exists(), reason="needs Linux's /proc/self/io")
def test_drawing_reads_no_font_file_once_warm() -> None:
    for fig in all_figures(VIETNAMESE):
        render(fig)  # warm: the font files are read once, into memory
    figures = all_figures("Đội 7 — Ấp Phước Hòa, 12 hộ")  # new words: glyphs laid out again
    before = _read_calls()
    for fig in figures:
        render(fig)
    # matplotlib's own font objects read the file for every glyph: ~4,600 reads here.
    assert _read_calls() - before < 50
