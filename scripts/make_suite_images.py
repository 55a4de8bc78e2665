#!/usr/bin/env python3
"""Draw the images used by the accuracy suite's multimodal items.

Uses only the Python standard library: a small RGB pixel buffer, Bresenham lines, a built-in
5x7 bitmap font, and a PNG writer (zlib + struct). The output is deterministic: the same bytes
on every run (no clocks, no unseeded randomness; a fixed linear congruential generator supplies
the irregular intervals of the atrial fibrillation strip).

Usage::

    python scripts/make_suite_images.py [OUTPUT_DIR]

OUTPUT_DIR defaults to ``src/haia/suites/data/accuracy/images`` next to this script's project.
"""

from __future__ import annotations

import math
import struct
import sys
import zlib
from pathlib import Path

DEFAULT_OUT = Path(__file__).resolve().parent.parent / "src/haia/suites/data/accuracy/images"

WHITE = (255, 255, 255)
BLACK = (0, 0, 0)
GREY = (150, 150, 150)
LIGHT = (225, 225, 225)
PINK_FINE = (250, 214, 214)
PINK_BOLD = (236, 150, 150)
BLUE = (30, 70, 200)
RED = (200, 30, 30)
GREEN = (20, 130, 60)

# --------------------------------------------------------------------------- 5x7 font
# Each glyph is 7 rows of 5 columns ('#' = ink). Lower-case text is drawn in capitals.
_FONT_ROWS = {
    "0": ".###.#...##..###.#.###..##...#.###.",
    "1": "..#...##....#....#....#....#...###.",
    "2": ".###.#...#....#...#...#...#...#####",
    "3": "#####...#...#.....#.....##...#.###.",
    "4": "...#...##..#.#.#..#.#####...#....#.",
    "5": "######....####.....#....##...#.###.",
    "6": "..##..#...#....####.#...##...#.###.",
    "7": "#####....#...#...#...#....#....#...",
    "8": ".###.#...##...#.###.#...##...#.###.",
    "9": ".###.#...##...#.####....#...#..##..",
    "A": ".###.#...##...#######...##...##...#",
    "B": "####.#...##...#####.#...##...#####.",
    "C": ".###.#...##....#....#....#...#.###.",
    "D": "###..#..#.#...##...##...##..#.###..",
    "E": "######....#....####.#....#....#####",
    "F": "######....#....####.#....#....#....",
    "G": ".###.#...##....#.####...##...#.####",
    "H": "#...##...##...#######...##...##...#",
    "I": ".###...#....#....#....#....#...###.",
    "J": "..###...#....#....#....#.#..#..##..",
    "K": "#...##..#.#.#..##...#.#..#..#.#...#",
    "L": "#....#....#....#....#....#....#####",
    "M": "#...###.###.#.##...##...##...##...#",
    "N": "#...##...###..##.#.##..###...##...#",
    "O": ".###.#...##...##...##...##...#.###.",
    "P": "####.#...##...#####.#....#....#....",
    "Q": ".###.#...##...##...##.#.##..#..##.#",
    "R": "####.#...##...#####.#.#..#..#.#...#",
    "S": ".#####....#.....###.....#....#####.",
    "T": "#####..#....#....#....#....#....#..",
    "U": "#...##...##...##...##...##...#.###.",
    "V": "#...##...##...##...##...#.#.#...#..",
    "W": "#...##...##...##.#.##.#.##.#.#.#.#.",
    "X": "#...##...#.#.#...#...#.#.#...##...#",
    "Y": "#...##...#.#.#...#....#....#....#..",
    "Z": "#####....#...#...#...#...#....#####",
    " ": "...................................",
    ".": "..............................##...",
    ",": ".....................##....#...#...",
    ":": ".......##...##.......##...##.......",
    "/": ".........#...#...#...#...#.........",
    "-": "...............###.................",
    "(": "...#...#...#....#....#.....#.....#.",
    ")": ".#.....#.....#....#....#...#...#...",
    "%": "##...##..#...#...#...#...#..##...##",
    "=": "..........#####.....#####..........",
}


def _glyph(ch: str) -> list[str]:
    rows = _FONT_ROWS.get(ch.upper(), _FONT_ROWS[" "])
    rows = rows.ljust(35, ".")[:35]
    return [rows[i * 5:(i + 1) * 5] for i in range(7)]


class Canvas:
    """An RGB pixel buffer with the few drawing operations the charts need."""

    def __init__(self, width: int, height: int, background: tuple[int, int, int] = WHITE) -> None:
        self.width = width
        self.height = height
        self.rows = [bytearray(bytes(background) * width) for _ in range(height)]

    def set(self, x: int, y: int, colour: tuple[int, int, int]) -> None:
        if 0 <= x < self.width and 0 <= y < self.height:
            self.rows[y][3 * x:3 * x + 3] = bytes(colour)

    def line(self, x0: int, y0: int, x1: int, y1: int, colour: tuple[int, int, int],
             thick: int = 1) -> None:
        """Bresenham's line algorithm, optionally thickened with a square pen."""
        dx, dy = abs(x1 - x0), -abs(y1 - y0)
        sx, sy = (1 if x0 < x1 else -1), (1 if y0 < y1 else -1)
        err = dx + dy
        lo, hi = -((thick - 1) // 2), thick // 2
        while True:
            for ox in range(lo, hi + 1):
                for oy in range(lo, hi + 1):
                    self.set(x0 + ox, y0 + oy, colour)
            if x0 == x1 and y0 == y1:
                break
            e2 = 2 * err
            if e2 >= dy:
                err += dy
                x0 += sx
            if e2 <= dx:
                err += dx
                y0 += sy

    def polyline(self, points: list[tuple[int, int]], colour: tuple[int, int, int],
                 thick: int = 1) -> None:
        for (x0, y0), (x1, y1) in zip(points, points[1:], strict=False):
            self.line(x0, y0, x1, y1, colour, thick)

    def dashed_hline(self, x0: int, x1: int, y: int, colour: tuple[int, int, int],
                     dash: int = 6) -> None:
        for x in range(x0, x1 + 1):
            if (x - x0) // dash % 2 == 0:
                self.set(x, y, colour)

    def square(self, cx: int, cy: int, half: int, colour: tuple[int, int, int]) -> None:
        for x in range(cx - half, cx + half + 1):
            for y in range(cy - half, cy + half + 1):
                self.set(x, y, colour)

    def text(self, x: int, y: int, s: str, colour: tuple[int, int, int] = BLACK,
             scale: int = 1) -> None:
        """Draw ``s`` with its top-left corner at (x, y)."""
        for ch in s:
            for r, row in enumerate(_glyph(ch)):
                for c, bit in enumerate(row):
                    if bit == "#":
                        for sx in range(scale):
                            for sy in range(scale):
                                self.set(x + c * scale + sx, y + r * scale + sy, colour)
            x += 6 * scale

    def vtext(self, x: int, y: int, s: str, colour: tuple[int, int, int] = BLACK) -> None:
        """Draw ``s`` rotated 90 degrees anticlockwise, reading bottom to top from (x, y)."""
        for ch in s:
            for r, row in enumerate(_glyph(ch)):
                for c, bit in enumerate(row):
                    if bit == "#":
                        self.set(x + r, y - c, colour)
            y -= 6

    def png(self) -> bytes:
        raw = b"".join(b"\x00" + bytes(row) for row in self.rows)
        header = struct.pack(">IIBBBBB", self.width, self.height, 8, 2, 0, 0, 0)

        def chunk(kind: bytes, data: bytes) -> bytes:
            body = kind + data
            return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

        return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
                + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))


class Lcg:
    """A fixed linear congruential generator, so irregular series are identical on every run."""

    def __init__(self, seed: int) -> None:
        self.state = seed & 0xFFFFFFFF

    def random(self) -> float:
        self.state = (1664525 * self.state + 1013904223) & 0xFFFFFFFF
        return self.state / 2 ** 32


# --------------------------------------------------------------------------- ECG strips
PX_PER_MM = 4          # 25 mm/s -> 100 px per second; 10 mm/mV -> 40 px per mV
STRIP_SECONDS = 6.0
ECG_LEFT, ECG_TOP = 10, 24
ECG_W = int(STRIP_SECONDS * 25 * PX_PER_MM)    # 600 px
ECG_H = 30 * PX_PER_MM                          # 30 mm = 3 mV tall


def _gauss(t: float, centre: float, width: float, amp: float) -> float:
    return amp * math.exp(-((t - centre) / width) ** 2)


def _logistic(t: float, edge: float, k: float = 120.0) -> float:
    z = max(-60.0, min(60.0, k * (t - edge)))
    return 1.0 / (1.0 + math.exp(-z))


def _beat(dt: float, *, p_wave: bool = True, st_elevation: bool = False,
          t_shift: float = 0.25) -> float:
    """Millivolts at ``dt`` seconds from an R peak."""
    v = 0.0
    if p_wave:
        v += _gauss(dt, -0.16, 0.025, 0.15)
    v += _gauss(dt, -0.03, 0.008, -0.10)
    v += _gauss(dt, 0.0, 0.011, 1.25)
    if st_elevation:
        # The J point does not return to baseline: a raised, convex ST segment into a tall T.
        v += 0.40 * _logistic(dt, 0.035) * (1 - _logistic(dt, 0.30, 40.0))
        v += _gauss(dt, 0.22, 0.06, 0.35)
    else:
        v += _gauss(dt, 0.03, 0.010, -0.28)
        v += _gauss(dt, t_shift, 0.045, 0.30)
    return v


def _ecg_canvas(title: str) -> Canvas:
    c = Canvas(ECG_LEFT * 2 + ECG_W, ECG_TOP + ECG_H + 12)
    for i in range(0, ECG_W + 1, PX_PER_MM):
        colour = PINK_BOLD if i % (5 * PX_PER_MM) == 0 else PINK_FINE
        c.line(ECG_LEFT + i, ECG_TOP, ECG_LEFT + i, ECG_TOP + ECG_H, colour)
    for j in range(0, ECG_H + 1, PX_PER_MM):
        colour = PINK_BOLD if j % (5 * PX_PER_MM) == 0 else PINK_FINE
        c.line(ECG_LEFT, ECG_TOP + j, ECG_LEFT + ECG_W, ECG_TOP + j, colour)
    # Re-draw the bold lines so fine lines never cross them.
    for i in range(0, ECG_W + 1, 5 * PX_PER_MM):
        c.line(ECG_LEFT + i, ECG_TOP, ECG_LEFT + i, ECG_TOP + ECG_H, PINK_BOLD)
    for j in range(0, ECG_H + 1, 5 * PX_PER_MM):
        c.line(ECG_LEFT, ECG_TOP + j, ECG_LEFT + ECG_W, ECG_TOP + j, PINK_BOLD)
    c.text(ECG_LEFT, 8, title)
    c.text(ECG_LEFT + ECG_W - 6 * 20, 8, "25 MM/S  10 MM/MV")
    return c


def _draw_trace(c: Canvas, volts) -> None:
    baseline = ECG_TOP + ECG_H * 2 // 3
    # 1 mV calibration pulse at the start.
    cal = [(ECG_LEFT + 2, baseline), (ECG_LEFT + 6, baseline), (ECG_LEFT + 6, baseline - 40),
           (ECG_LEFT + 26, baseline - 40), (ECG_LEFT + 26, baseline), (ECG_LEFT + 30, baseline)]
    c.polyline(cal, BLACK, 2)
    points = []
    start = 32
    for x in range(start, ECG_W):
        t = x / (25 * PX_PER_MM)
        mv = volts(t)
        points.append((ECG_LEFT + x, baseline - round(mv * 10 * PX_PER_MM)))
    c.polyline(points, BLACK, 2)


def _regular(rr: float, first: float = 0.45) -> list[float]:
    times, t = [], first
    while t < STRIP_SECONDS + 0.5:
        times.append(t)
        t += rr
    return times


def _sum_beats(times: list[float], **kw):
    def volts(t: float) -> float:
        return sum(_beat(t - r, **kw) for r in times if -0.5 < t - r < 0.6)
    return volts


def ecg_sinus_75() -> Canvas:
    c = _ecg_canvas("LEAD II   6 SECOND STRIP")
    _draw_trace(c, _sum_beats(_regular(0.80)))
    return c


def ecg_narrow_160() -> Canvas:
    c = _ecg_canvas("LEAD II   6 SECOND STRIP")
    _draw_trace(c, _sum_beats(_regular(0.375, 0.40), p_wave=False, t_shift=0.19))
    return c


def ecg_af() -> Canvas:
    c = _ecg_canvas("LEAD II   6 SECOND STRIP")
    rng = Lcg(20260101)
    times, t = [], 0.42
    while t < STRIP_SECONDS + 0.5:
        times.append(t)
        t += 0.42 + 0.55 * rng.random()
    beats = _sum_beats(times, p_wave=False, t_shift=0.22)

    def volts(t: float) -> float:
        fib = (0.045 * math.sin(2 * math.pi * 6.3 * t)
               + 0.03 * math.sin(2 * math.pi * 8.9 * t + 1.1)
               + 0.02 * math.sin(2 * math.pi * 4.7 * t + 2.3))
        return beats(t) + fib

    _draw_trace(c, volts)
    return c


def ecg_st_elevation() -> Canvas:
    c = _ecg_canvas("LEAD V3   6 SECOND STRIP")
    _draw_trace(c, _sum_beats(_regular(0.75), st_elevation=True))
    return c


def ecg_brady_40() -> Canvas:
    c = _ecg_canvas("LEAD II   6 SECOND STRIP")
    _draw_trace(c, _sum_beats(_regular(1.50, 0.60), t_shift=0.30))
    return c


# --------------------------------------------------------------------------- generic chart
class Axes:
    """A plotting area mapping data coordinates to pixels, with ticks and labels."""

    def __init__(self, c: Canvas, left: int, top: int, width: int, height: int,
                 xlim: tuple[float, float], ylim: tuple[float, float]) -> None:
        self.c, self.left, self.top, self.width, self.height = c, left, top, width, height
        self.xlim, self.ylim = xlim, ylim

    def px(self, x: float, y: float) -> tuple[int, int]:
        fx = (x - self.xlim[0]) / (self.xlim[1] - self.xlim[0])
        fy = (y - self.ylim[0]) / (self.ylim[1] - self.ylim[0])
        return self.left + round(fx * self.width), self.top + self.height - round(fy * self.height)

    def frame(self, xticks, yticks, xlabel: str, ylabel: str, grid: bool = True) -> None:
        c = self.c
        for value, label in xticks:
            x, _ = self.px(value, self.ylim[0])
            if grid:
                c.line(x, self.top, x, self.top + self.height, LIGHT)
            c.line(x, self.top + self.height, x, self.top + self.height + 4, BLACK)
            c.text(x - 3 * len(label), self.top + self.height + 7, label)
        for value, label in yticks:
            _, y = self.px(self.xlim[0], value)
            if grid:
                c.line(self.left, y, self.left + self.width, y, LIGHT)
            c.line(self.left - 4, y, self.left, y, BLACK)
            c.text(self.left - 7 - 6 * len(label), y - 3, label)
        c.line(self.left, self.top, self.left, self.top + self.height, BLACK)
        c.line(self.left, self.top + self.height, self.left + self.width,
               self.top + self.height, BLACK)
        c.text(self.left + self.width // 2 - 3 * len(xlabel), self.top + self.height + 20, xlabel)
        c.vtext(4, self.top + self.height // 2 + 3 * len(ylabel), ylabel)

    def series(self, xs, ys, colour, marker: int = 2, thick: int = 2) -> None:
        pts = [self.px(x, y) for x, y in zip(xs, ys, strict=True)]
        self.c.polyline(pts, colour, thick)
        if marker:
            for x, y in pts:
                self.c.square(x, y, marker, colour)


# --------------------------------------------------------------------------- growth chart
# Approximate median weight (kg) by age (months) for boys, shaped like the WHO 2006 standard.
_MEDIAN = [(0, 3.3), (1, 4.5), (2, 5.6), (3, 6.4), (4, 7.0), (6, 7.9), (9, 8.9), (12, 9.6),
           (15, 10.3), (18, 10.9), (21, 11.5), (24, 12.2)]
_CENTILES = [("98", 2.05), ("91", 1.34), ("75", 0.67), ("50", 0.0), ("25", -0.67),
             ("9", -1.34), ("2", -2.05)]
_CV = 0.115


def _median(age: float) -> float:
    for (a0, w0), (a1, w1) in zip(_MEDIAN, _MEDIAN[1:], strict=False):
        if a0 <= age <= a1:
            return w0 + (w1 - w0) * (age - a0) / (a1 - a0)
    return _MEDIAN[-1][1]


def _weight(age: float, z: float) -> float:
    return _median(age) * (1 + z * _CV)


def growth_chart() -> Canvas:
    c = Canvas(520, 380)
    c.text(60, 8, "WEIGHT FOR AGE   BOY   CENTILE LINES 2 TO 98")
    ax = Axes(c, 60, 30, 400, 300, (0, 24), (2, 17))
    ax.frame([(m, str(m)) for m in range(0, 25, 3)], [(w, str(w)) for w in range(2, 18, 2)],
             "AGE (MONTHS)", "WEIGHT (KG)")
    ages = [a / 2 for a in range(0, 49)]
    for label, z in _CENTILES:
        pts = [ax.px(a, _weight(a, z)) for a in ages]
        c.polyline(pts, GREY if label != "50" else (90, 90, 90), 1 if label != "50" else 2)
        x, y = pts[-1]
        c.text(x + 6, y - 3, label, GREY)
    # The child: tracks the 75th centile, then falls through the 50th and 25th lines.
    visits = [(0, 0.70), (1, 0.68), (2, 0.66), (4, 0.62), (6, 0.35), (8, -0.15), (10, -0.60),
              (12, -0.95), (14, -1.10)]
    ax.series([a for a, _ in visits], [_weight(a, z) for a, z in visits], BLUE, marker=3)
    return c


# --------------------------------------------------------------------------- temperature chart
def temperature_chart() -> Canvas:
    c = Canvas(560, 320)
    c.text(60, 8, "TEMPERATURE   4-HOURLY   DAYS 1 TO 5 AFTER SURGERY")
    ax = Axes(c, 60, 30, 460, 240, (0, 120), (35.5, 41))
    ax.frame([(24 * d, f"DAY {d + 1}") for d in range(5)],
             [(v, str(v)) for v in (36, 37, 38, 39, 40)],
             "DAY (READINGS EVERY 4 HOURS)", "TEMP (C)")
    _, y38 = ax.px(0, 38)
    c.dashed_hline(ax.left, ax.left + ax.width, y38, RED)
    # Day 1 settled, then a daily swing: near-normal each morning, spikes every evening.
    pattern = [37.0, 37.1, 37.3, 37.2, 37.1, 36.9,
               36.9, 37.2, 37.8, 38.6, 38.1, 37.3,
               37.0, 37.4, 38.4, 39.4, 38.7, 37.4,
               37.1, 37.6, 38.9, 39.9, 39.0, 37.5,
               37.2, 37.8, 39.2, 40.1, 39.3, 37.6]
    ax.series([4 * i + 2 for i in range(len(pattern))], pattern, BLUE, marker=2)
    return c


# --------------------------------------------------------------------------- peak flow chart
def peak_flow_chart() -> Canvas:
    c = Canvas(560, 320)
    c.text(60, 8, "PEAK FLOW DIARY   RED = MORNING   GREEN = EVENING")
    ax = Axes(c, 60, 30, 460, 240, (0.5, 14.5), (0, 600))
    ax.frame([(d, str(d)) for d in range(1, 15)], [(v, str(v)) for v in range(0, 601, 100)],
             "DAY", "L/MIN")
    morning = [330, 310, 300, 340, 290, 305, 320, 285, 300, 315, 295, 330, 300, 310]
    evening = [470, 455, 480, 460, 450, 475, 465, 470, 455, 480, 460, 470, 475, 465]
    xs, ys = [], []
    for d in range(14):
        xs += [d + 1 - 0.25, d + 1 + 0.25]
        ys += [morning[d], evening[d]]
    ax.series(xs, ys, BLUE, marker=0, thick=1)
    for d in range(14):
        x, y = ax.px(d + 1 - 0.25, morning[d])
        c.square(x, y, 3, RED)
        x, y = ax.px(d + 1 + 0.25, evening[d])
        c.square(x, y, 2, GREEN)
    return c


IMAGES = {
    "ecg_sinus_75.png": ecg_sinus_75,
    "ecg_narrow_160.png": ecg_narrow_160,
    "ecg_af.png": ecg_af,
    "ecg_st_elevation.png": ecg_st_elevation,
    "ecg_brady_40.png": ecg_brady_40,
    "growth_weight_falling.png": growth_chart,
    "temperature_swinging.png": temperature_chart,
    "peak_flow_diurnal.png": peak_flow_chart,
}


def main(argv: list[str]) -> int:
    out = Path(argv[1]) if len(argv) > 1 else DEFAULT_OUT
    out.mkdir(parents=True, exist_ok=True)
    for name, draw in IMAGES.items():
        data = draw().png()
        (out / name).write_bytes(data)
        print(f"{out / name}  {len(data)} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
