"""The Agg canvas every chart draws on, with its fonts read from memory.

matplotlib 3.11's FT2Font reads a font file through Python's `seek` and `read` for every glyph
it loads: about ten system calls a glyph, each time a text is measured or drawn (0.74 ms to
lay out a 33-letter label; 0.23 ms from memory). Reading from memory made a digest a fifth
cheaper, which decides how fast the digests of many campaigns fan out.

Here the renderer gets the same fonts, built the way `matplotlib.font_manager.get_font`
builds them (the same fallback to the Last Resort font, which warns of a missing glyph), but
over the file's bytes in memory. matplotlib's main line reads fonts from memory itself
(matplotlib/matplotlib#32064, not in a release yet); once a release does, this module can go
and `new_figure` can use `FigureCanvasAgg` again. The charts are pixel for pixel the same
either way (`tests/test_chart_canvas.py` compares them)."""

from __future__ import annotations

import io
import os
import threading
from functools import cache, lru_cache

from matplotlib import cbook
from matplotlib.backends.backend_agg import FigureCanvasAgg, RendererAgg
from matplotlib.font_manager import FontProperties, findfont
from matplotlib.ft2font import FT2Font, LoadFlags

# How matplotlib's text-to-path measures (matplotlib.textpath.TextToPath): at 100 pt, 72 dpi.
MEASURE_SIZE = 100.0
MEASURE_DPI = 72.0


@cache
def _font_bytes(path: str) -> bytes:
    with open(path, "rb") as file:
        return file.read()


@lru_cache(maxsize=64)
def _font(path: str, thread: int) -> FT2Font:
    """One font object per file and thread: an FT2Font is not safe to share between threads
    (matplotlib's own cache is keyed on the thread too)."""
    last_resort = FT2Font(
        io.BytesIO(_font_bytes(cbook._get_data_path("fonts", "ttf", "LastResortHE-Regular.ttf"))),
        _warn_if_used=True,
    )
    last_resort.set_charmap(0)  # its only useful character map; FreeType picks another
    return FT2Font(io.BytesIO(_font_bytes(path)), _fallback_list=[last_resort])


def font_for(prop: FontProperties, size: float, dpi: float) -> FT2Font:
    """The font for `prop` (the charts name one family, so no other font falls back), cleared,
    at `size` points and `dpi`."""
    font = _font(findfont(prop), threading.get_ident())
    font.clear()
    font.set_size(size, dpi)
    return font


def measure(text: str, prop: FontProperties) -> tuple[float, float, float]:
    """Width, height and descent in points, as `matplotlib.textpath.text_to_path` gives."""
    font = font_for(prop, MEASURE_SIZE, MEASURE_DPI)
    font.set_text(text, 0.0, flags=LoadFlags.NO_HINTING)
    width, height = font.get_width_height()
    scale = prop.get_size_in_points() / MEASURE_SIZE / 64
    return width * scale, height * scale, font.get_descent() * scale


class Renderer(RendererAgg):
    def _prepare_font(self, font_prop: FontProperties) -> FT2Font:
        return font_for(font_prop, font_prop.get_size_in_points(), self.dpi)


class Canvas(FigureCanvasAgg):
    def get_renderer(self) -> Renderer:
        """As Agg's: one renderer, made again only when the figure's size changes."""
        width, height = self.get_width_height(physical=True)
        size = (width, height, self.figure.dpi)
        renderer = getattr(self, "renderer", None)
        if (
            not isinstance(renderer, Renderer)
            or (renderer.width, renderer.height, renderer.dpi) != size
        ):
            self.renderer = Renderer(*size)
        return self.renderer


if hasattr(os, "register_at_fork"):  # as matplotlib's cache: fonts do not survive a fork
    os.register_at_fork(after_in_child=_font.cache_clear)
