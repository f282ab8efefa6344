"""The look shared by every chart: phone-sized figures, one font that covers Vietnamese, the
Okabe–Ito palette, text measuring, and rendering to PNG.

Everything goes through the object-oriented Figure API with explicit font properties, never
pyplot, so charts can be drawn from several threads at once. One rcParam is set, once, when this
module loads: text hinting, which matplotlib reads from nowhere else."""

from __future__ import annotations

import io
import unicodedata
from functools import lru_cache
from types import MappingProxyType
from typing import TYPE_CHECKING, Final

import matplotlib
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties

from charts.canvas import Canvas, measure

if TYPE_CHECKING:
    import PIL.Image

# FreeType's auto-hinter (matplotlib's default) took a quarter of a chart's drawing time; at
# 180 dpi, where a 14 pt label is ~35 px tall, glyphs drawn without hinting look the same.
matplotlib.rcParams["text.hinting"] = "no_hinting"

# 6 in at 180 dpi is 1080 px, a phone screen's width in device pixels: the chat apps show the
# image at about its own size, where a 14 pt label is ~35 px tall.
WIDTH_IN: Final = 6.0
DPI: Final = 180
WIDTH_PT: Final = WIDTH_IN * 72
MARGIN_PT: Final = 16.0

# Bundled with matplotlib, so present on every host, and it has every Vietnamese glyph.
FONT_FAMILY: Final = "DejaVu Sans"
TITLE_SIZE: Final = 19.0
HEADING_SIZE: Final = 15.0
TEXT_SIZE: Final = 14.0
TITLE_SPACING: Final = 1.35  # line pitch, in font sizes

# Okabe & Ito (2008), "Color Universal Design": distinguishable with every common colour-vision
# deficiency.
OKABE_ITO: Final = MappingProxyType(
    {
        "black": "#000000",
        "orange": "#E69F00",
        "sky_blue": "#56B4E9",
        "bluish_green": "#009E73",
        "yellow": "#F0E442",
        "blue": "#0072B2",
        "vermillion": "#D55E00",
        "reddish_purple": "#CC79A7",
    }
)
# Not data: tracks, grid and secondary text stay neutral so the palette carries the meaning.
TRACK: Final = "#E6E6E6"
GRID: Final = "#D9D9D9"
MUTED: Final = "#555555"
ELLIPSIS: Final = "…"


def font(size: float = TEXT_SIZE, *, bold: bool = False) -> FontProperties:
    return FontProperties(family=FONT_FAMILY, size=size, weight="bold" if bold else "normal")


def clean(text: str) -> str:
    """Composed form: user input may arrive decomposed (base letter + combining marks), which
    measures wrong and can stack marks badly."""
    return unicodedata.normalize("NFC", text)


def literal(text: str) -> str:
    """Text as drawn: matplotlib reads a pair of `$` as math, and money formats contain `$`."""
    return text.replace("$", r"\$")


@lru_cache(maxsize=8192)
def text_width(text: str, prop: FontProperties) -> float:
    """Width in points. Remembered (FontProperties hash by value): a title is measured again
    when it is drawn, and labels, legends and status words recur in every digest; measuring
    was an eighth of a digest's time."""
    width, _, _ = measure(text, prop)
    return float(width)


@lru_cache(maxsize=1024)
def text_height(text: str, prop: FontProperties) -> float:
    """Height in points of one line as matplotlib lays it out: never less than "lp"'s."""
    return float(max(measure(t, prop)[1] for t in (text, "lp")))


def truncate(text: str, width: float, prop: FontProperties) -> str:
    """The longest prefix that fits in `width` points, marked with "…"."""
    if text_width(text, prop) <= width:
        return text
    low, high = 0, len(text)  # text[:high] + "…" never fits
    while high - low > 1:
        middle = (low + high) // 2
        if text_width(text[:middle].rstrip() + ELLIPSIS, prop) <= width:
            low = middle
        else:
            high = middle
    return text[:low].rstrip() + ELLIPSIS


def wrap(text: str, width: float, prop: FontProperties) -> list[str]:
    """Greedy word wrap to `width` points; a single word too long for a line is truncated."""
    lines: list[str] = []
    for word in text.split():
        candidate = f"{lines[-1]} {word}" if lines else word
        if lines and text_width(candidate, prop) <= width:
            lines[-1] = candidate
        else:
            lines.append(truncate(word, width, prop))
    return lines or [""]


def new_figure(height_in: float) -> Figure:
    """On an Agg canvas from the start: a chart can measure its laid-out parts with the
    renderer that will draw it."""
    fig = Figure(figsize=(WIDTH_IN, height_in), dpi=DPI, facecolor="white")
    Canvas(fig)
    return fig


def title_lines(title: str) -> list[str]:
    return wrap(clean(title), WIDTH_PT - 2 * MARGIN_PT, font(TITLE_SIZE, bold=True))


def title_height(title: str) -> float:
    """Points the title takes from the top edge, with the space under it; needed before the
    figure exists because the figure's height depends on it."""
    return MARGIN_PT + len(title_lines(title)) * TITLE_SIZE * TITLE_SPACING + 12


def add_title(fig: Figure, title: str) -> None:
    """The wrapped title at the top left, in the space `title_height` reserved."""
    fig.text(
        MARGIN_PT / WIDTH_PT,
        1 - MARGIN_PT / (fig.get_figheight() * 72),
        literal("\n".join(title_lines(title))),
        fontproperties=font(TITLE_SIZE, bold=True),
        ha="left",
        va="top",
        linespacing=TITLE_SPACING / 1.2,
    )


def message_figure(title: str, message: str) -> Figure:
    """What a chart shows when there is nothing to draw: the title and a short message."""
    height_pt = title_height(title) + 90
    fig = new_figure(height_pt / 72)
    add_title(fig, title)
    fig.text(
        0.5,
        45 / height_pt,
        literal(clean(message)),
        fontproperties=font(HEADING_SIZE),
        color=MUTED,
        ha="center",
        va="center",
    )
    return fig


# The fixed palette every chart is encoded with (see `render`): a grey ramp, and each colour of
# the palette above blended towards white, which is what anti-aliased edges on white are.
GREY_STEP: Final = 16
BLEND_STEPS: Final = 12


def _rgb(colour: str) -> tuple[int, int, int]:
    red, green, blue = (int(colour[n : n + 2], 16) for n in (1, 3, 5))
    return red, green, blue


def _lookup(colour: tuple[int, int, int]) -> tuple[int, int, int]:
    """Where Pillow looks a colour up in a palette: at 6 bits a channel."""
    red, green, blue = (value & ~3 for value in colour)
    return red, green, blue


def palette_colours() -> list[tuple[int, int, int]]:
    """White and the style's colours first, exact; then the ramp and the blends, except any
    that would be found before a style colour at its own look-up point."""

    def distance(a: tuple[int, int, int], b: tuple[int, int, int]) -> int:
        return sum((x - y) ** 2 for x, y in zip(a, b, strict=True))

    exact = list(
        dict.fromkeys(_rgb(c) for c in ("#FFFFFF", *OKABE_ITO.values(), TRACK, GRID, MUTED))
    )
    greys = {(v, v, v) for v in range(0, 256, GREY_STEP)}
    blends = {
        (round(r + (255 - r) * t), round(g + (255 - g) * t), round(b + (255 - b) * t))
        for r, g, b in exact
        if not r == g == b
        for t in (n / BLEND_STEPS for n in range(1, BLEND_STEPS))
    }
    return exact + sorted(
        colour
        for colour in greys | blends
        if colour not in exact
        and all(distance(colour, _lookup(s)) > distance(s, _lookup(s)) for s in exact)
    )


@lru_cache(maxsize=1)
def _palette() -> PIL.Image.Image:
    from PIL import Image

    image = Image.new("P", (1, 1))
    image.putpalette([value for colour in palette_colours() for value in colour])
    return image


def render(fig: Figure) -> bytes:
    """PNG bytes from an Agg canvas; no file, no pyplot. Encoding RGBA at PNG's defaults took a
    third of a chart's time, and building a 256-colour palette for each chart (Pillow's fast
    octree) a sixth of a digest's, which decides how fast the digests fan out. Every chart is
    a few flat colours of this module on white with their anti-aliased edges, so one fixed
    palette of those colours and their blends with white serves them all: mapping to it takes
    a millisecond, the flat colours come out exact, edges on white within 11/255 (a few pixels
    where two colours meet, more; the octree: within 15/255, white as 254), and the file is a
    third of an RGB one's size, which helps on a poor connection."""
    from PIL import Image

    canvas = fig.canvas if isinstance(fig.canvas, Canvas) else Canvas(fig)
    canvas.draw()
    width, height = canvas.get_width_height()
    # Read as RGB straight from the RGBA buffer: a quarter of the time of converting RGBA.
    rgb = Image.frombytes("RGB", (width, height), canvas.buffer_rgba(), "raw", "RGBX")
    palette = rgb.quantize(palette=_palette(), dither=Image.Dither.NONE)
    buffer = io.BytesIO()
    palette.save(buffer, format="png", compress_level=3)
    return buffer.getvalue()
