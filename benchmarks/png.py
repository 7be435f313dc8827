"""A tiny pure-Python PNG line chart (log-log), for machines without matplotlib.

Lines, decade grid, tick labels and a legend in a built-in 3x5 pixel font; the
file is written with :mod:`zlib` and :mod:`struct` only.
"""

from __future__ import annotations

import itertools
import math
import struct
import zlib
from pathlib import Path

__all__ = ["Canvas", "line_chart", "write_png"]

Color = tuple[int, int, int]

_PALETTE: tuple[Color, ...] = (
    (31, 119, 180),
    (255, 127, 14),
    (44, 160, 44),
    (214, 39, 40),
    (148, 103, 189),
    (140, 86, 75),
    (227, 119, 194),
    (127, 127, 127),
    (188, 189, 34),
    (23, 190, 207),
    (0, 0, 128),
    (128, 0, 0),
)

# 3x5 glyphs, rows top to bottom, "1" = ink.
_GLYPHS = {
    "0": "111101101101111",
    "1": "010110010010111",
    "2": "111001111100111",
    "3": "111001111001111",
    "4": "101101111001001",
    "5": "111100111001111",
    "6": "111100111101111",
    "7": "111001010010010",
    "8": "111101111101111",
    "9": "111101111001111",
    "a": "010101111101101",
    "b": "110101110101110",
    "c": "011100100100011",
    "d": "110101101101110",
    "e": "111100110100111",
    "f": "111100110100100",
    "g": "011100101101011",
    "h": "101101111101101",
    "i": "111010010010111",
    "j": "001001001101010",
    "k": "101101110101101",
    "l": "100100100100111",
    "m": "101111111101101",
    "n": "110101101101101",
    "o": "010101101101010",
    "p": "110101110100100",
    "q": "010101101110011",
    "r": "110101110101101",
    "s": "011100010001110",
    "t": "111010010010010",
    "u": "101101101101111",
    "v": "101101101101010",
    "w": "101101111111101",
    "x": "101101010101101",
    "y": "101101010010010",
    "z": "111001010100111",
    ".": "000000000000010",
    ",": "000000000010100",
    ":": "000010000010000",
    "-": "000000111000000",
    "(": "010100100100010",
    ")": "010001001001010",
    "/": "001001010100100",
    "=": "000111000111000",
    "+": "000010111010000",
    "_": "000000000000111",
    "%": "101001010100101",
    " ": "000000000000000",
}


def write_png(path: Path, width: int, height: int, pixels: bytearray) -> None:
    """Write RGB ``pixels`` (row-major, 3 bytes each) as an 8-bit truecolor PNG."""
    rows = b"".join(b"\x00" + bytes(pixels[y * width * 3 : (y + 1) * width * 3]) for y in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack("!I", len(data)) + kind + data + struct.pack("!I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack("!IIBBBBB", width, height, 8, 2, 0, 0, 0)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows, 9)) + chunk(b"IEND", b"")
    )


class Canvas:
    def __init__(self, width: int, height: int) -> None:
        self.width, self.height = width, height
        self.pixels = bytearray(b"\xff" * (width * height * 3))

    def dot(self, x: int, y: int, color: Color, size: int = 1) -> None:
        for dy in range(size):
            for dx in range(size):
                px, py = x + dx, y + dy
                if 0 <= px < self.width and 0 <= py < self.height:
                    offset = (py * self.width + px) * 3
                    self.pixels[offset : offset + 3] = bytes(color)

    def line(self, x0: int, y0: int, x1: int, y1: int, color: Color, size: int = 1) -> None:
        steps = max(abs(x1 - x0), abs(y1 - y0), 1)
        for step in range(steps + 1):
            self.dot(round(x0 + (x1 - x0) * step / steps), round(y0 + (y1 - y0) * step / steps), color, size)

    def text(self, x: int, y: int, text: str, color: Color = (0, 0, 0), scale: int = 2) -> None:
        for index, char in enumerate(text.lower()):
            glyph = _GLYPHS.get(char, _GLYPHS[" "])
            for bit, ink in enumerate(glyph):
                if ink == "1":
                    self.dot(x + (index * 4 + bit % 3) * scale, y + (bit // 3) * scale, color, scale)

    def save(self, path: Path) -> None:
        write_png(path, self.width, self.height, self.pixels)


def _label(value: float) -> str:
    return f"{value:g}" if value < 1000 else f"{int(value):,}".replace(",", "")


def line_chart(
    series: dict[str, list[tuple[int, float]]],
    path: Path,
    *,
    title: str,
    unit: str = "ms",
    x_label: str = "events of history (log)",
) -> None:
    """Log-log chart of ``series`` (label -> [(x, y)]) with a legend below the plot."""
    width, plot_height = 1000, 460
    legend_rows = (len(series) + 1) // 2
    height = plot_height + 60 + legend_rows * 16
    canvas = Canvas(width, height)
    left, right, top, bottom = 80, width - 30, 40, plot_height
    points = [point for values in series.values() for point in values if point[1] > 0]
    if not points:
        canvas.text(left, top, "no data")
        canvas.save(path)
        return
    x_low = 10 ** math.floor(math.log10(min(x for x, _ in points)))
    x_high = 10 ** math.ceil(math.log10(max(x for x, _ in points)))
    y_low = 10 ** math.floor(math.log10(min(y for _, y in points)))
    y_high = 10 ** math.ceil(math.log10(max(y for _, y in points)))
    x_high, y_high = max(x_high, x_low * 10), max(y_high, y_low * 10)

    def position(x: float, y: float) -> tuple[int, int]:
        px = left + (math.log10(x) - math.log10(x_low)) / (math.log10(x_high) - math.log10(x_low)) * (right - left)
        py = bottom - (math.log10(y) - math.log10(y_low)) / (math.log10(y_high) - math.log10(y_low)) * (bottom - top)
        return round(px), round(py)

    grid, axis = (225, 225, 225), (0, 0, 0)
    decade = x_low
    while decade <= x_high:
        x, _ = position(decade, y_low)
        canvas.line(x, top, x, bottom, grid)
        canvas.text(x - 8, bottom + 8, _label(decade))
        decade *= 10
    decade = y_low
    while decade <= y_high:
        _, y = position(x_low, decade)
        canvas.line(left, y, right, y, grid)
        canvas.text(8, y - 5, f"{_label(decade)} {unit}")
        decade *= 10
    canvas.line(left, top, left, bottom, axis)
    canvas.line(left, bottom, right, bottom, axis)
    canvas.text(left, 12, title)
    canvas.text(right - 300, bottom + 26, x_label)
    for index, (label, values) in enumerate(series.items()):
        color = _PALETTE[index % len(_PALETTE)]
        ordered = sorted(point for point in values if point[1] > 0)
        for (x0, y0), (x1, y1) in itertools.pairwise(ordered):
            canvas.line(*position(x0, y0), *position(x1, y1), color, 2)
        for point_x, point_y in ordered:
            px, py = position(point_x, point_y)
            canvas.dot(px - 2, py - 2, color, 5)
        column, row = index % 2, index // 2
        lx, ly = 20 + column * 490, plot_height + 52 + row * 16
        canvas.line(lx, ly + 4, lx + 24, ly + 4, color, 3)
        canvas.text(lx + 32, ly, label[:58])
    canvas.save(path)
