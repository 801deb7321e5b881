"""Legibility of a rendered matplotlib figure, measured on the drawn artists (torch-free).

A figure a reader cannot read is as bad as a wrong one: tick labels that overlap, text too small to read, a
legend drawn over the data. :func:`issues` draws the figure and measures, in display pixels at the saved
resolution, every visible text's font size and extent (matplotlib's ``Text.get_window_extent``), the overlap
of texts that belong to the same axis or figure (tick labels, annotations, titles, legend entries) and the
data points (line markers and vertices, scatter points) lying under each axes' legend, and legend entries
drawn alike (same marker and line style, nearly the same colour). While :data:`RECORDING` is true (the tests
set it), every figure saved with :func:`advreg.reporting.figures._save` is measured and its issues kept in
:data:`AUDITS` (path -> issues). A pipeline run does not measure: the measurement draws the figure once more,
about a third of the cost of saving it, and nothing in a run reads it.
"""

from __future__ import annotations

import itertools

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.collections import PathCollection
from matplotlib.colors import to_rgb
from matplotlib.lines import Line2D
from matplotlib.text import Text

MIN_FONT_PT = 6.5  # smallest readable text (points): 10 px at the report's 110 dpi
OVERLAP_PX = 0.0  # texts closer than this many pixels in both directions (negative: apart) overlap
AUDITS: dict[str, list[str]] = {}
RECORDING = False  # measure every saved figure into AUDITS (tests/test_figure_legibility.py turns it on)


def _texts(figure: plt.Figure, renderer) -> list[Text]:  # noqa: ANN001 (renderer)
    """The texts drawn in ``figure``: its own, and per axes the titles, axis labels, the tick labels of the ticks
    in view, annotations and the legend's entries and title."""
    found: list[Text] = list(figure.texts)
    if figure._suptitle is not None:  # noqa: SLF001 (matplotlib keeps the suptitle apart)
        found.append(figure._suptitle)  # noqa: SLF001
    for legend in figure.legends:
        found += [*legend.get_texts(), legend.get_title()]
    for axes in figure.axes:
        found += [axes.title, axes._left_title, axes._right_title]  # noqa: SLF001
        found += [axes.xaxis.label, axes.yaxis.label, *axes.texts]
        for axis, (low, high) in ((axes.xaxis, axes.get_xlim()), (axes.yaxis, axes.get_ylim())):
            low, high = min(low, high), max(low, high)
            for tick in axis.get_major_ticks() + axis.get_minor_ticks():
                if low - 1e-9 <= tick.get_loc() <= high + 1e-9 and tick.get_visible():
                    found += [label for label in (tick.label1, tick.label2) if label.get_visible()]
        legend = axes.get_legend()
        if legend is not None and legend.get_visible():
            found += [*legend.get_texts(), legend.get_title()]
    unique = list(dict.fromkeys(found))
    return [t for t in unique if t.get_visible() and t.get_text().strip()]


def _overlapping_pairs(boxes: np.ndarray) -> list[tuple[int, int]]:
    """Index pairs (i < j) of the (n, 4) boxes (x0, y0, x1, y1) that overlap by more than :data:`OVERLAP_PX` in
    both directions, in the order of ``itertools.combinations`` (all pairs at once: a figure of many panels draws
    thousands of texts)."""
    if len(boxes) < 2:
        return []
    x0, y0, x1, y1 = (boxes[:, k] for k in range(4))
    dx = np.minimum(x1[:, None], x1[None, :]) - np.maximum(x0[:, None], x0[None, :])
    dy = np.minimum(y1[:, None], y1[None, :]) - np.maximum(y0[:, None], y0[None, :])
    hit = np.triu((dx > OVERLAP_PX) & (dy > OVERLAP_PX), k=1)
    return [(int(i), int(j)) for i, j in zip(*np.nonzero(hit), strict=True)]


def _points(axes: plt.Axes) -> np.ndarray:
    """Display coordinates of the data points drawn in ``axes`` (line vertices, scatter offsets)."""
    chunks = []
    for line in axes.get_lines():
        if line.get_visible() and len(line.get_xydata()):
            chunks.append(axes.transData.transform(line.get_xydata()))
    for collection in axes.collections:
        if isinstance(collection, PathCollection) and collection.get_visible():
            offsets = collection.get_offsets()
            if len(offsets):
                chunks.append(collection.get_offset_transform().transform(offsets))
    chunks = [c for c in chunks if np.isfinite(c).all()]
    return np.concatenate(chunks) if chunks else np.empty((0, 2))


MIN_COLOUR_DISTANCE = 0.1  # RGB distance (0-1 channels) below which two legend entries of one style look alike


def _style(handle) -> tuple[tuple[float, ...], str, str] | None:  # noqa: ANN001 (a legend handle)
    """(RGB colour, marker, line style) of a legend handle; None for a handle without a colour."""
    if isinstance(handle, Line2D):
        return tuple(to_rgb(handle.get_color())), str(handle.get_marker()), str(handle.get_linestyle())
    if hasattr(handle, "get_facecolor"):
        face = np.atleast_2d(handle.get_facecolor())
        if len(face):
            marker = "patch" if not isinstance(handle, PathCollection) else "points"
            return tuple(float(c) for c in face[0][:3]), marker, ""
    return None


def _alike(legend) -> list[str]:  # noqa: ANN001 (Legend)
    """Pairs of legend entries drawn alike: the same marker and line style and colours closer than
    :data:`MIN_COLOUR_DISTANCE`."""
    entries = [
        (text.get_text(), _style(handle))
        for text, handle in zip(legend.get_texts(), legend.legend_handles, strict=False)
        if handle is not None
    ]
    found = []
    for (name_a, a), (name_b, b) in itertools.combinations([e for e in entries if e[1]], 2):
        if a[1:] == b[1:] and float(np.linalg.norm(np.subtract(a[0], b[0]))) < MIN_COLOUR_DISTANCE:
            found.append(f"legend entries {name_a!r} and {name_b!r} look alike")
    return found


def issues(figure: plt.Figure) -> list[str]:
    """What makes ``figure`` hard to read: text smaller than :data:`MIN_FONT_PT`, overlapping texts, data
    points under a legend drawn inside its axes. Empty when legible."""
    canvas = figure.canvas
    canvas.draw()
    renderer = canvas.get_renderer()
    found = []
    texts = _texts(figure, renderer)
    for text in texts:
        if text.get_fontsize() < MIN_FONT_PT:
            found.append(f"text {text.get_text()!r} is {text.get_fontsize():.1f} pt (< {MIN_FONT_PT} pt)")
    extents = [t.get_window_extent(renderer) for t in texts]
    boxes = np.array([(e.x0, e.y0, e.x1, e.y1) for e in extents], dtype=float).reshape(-1, 4)
    for i, j in _overlapping_pairs(boxes):
        found.append(f"texts {texts[i].get_text()!r} and {texts[j].get_text()!r} overlap")
    for legend in figure.legends:
        found += _alike(legend)
    for axes in figure.axes:
        legend = axes.get_legend()
        if legend is None or not legend.get_visible():
            continue
        found += _alike(legend)
        box = legend.get_window_extent(renderer)
        points = _points(axes)
        inside = (points[:, 0] > box.x0) & (points[:, 0] < box.x1) & (points[:, 1] > box.y0) & (points[:, 1] < box.y1)
        if inside.any():
            found.append(f"the legend of axes {axes.get_title()!r} covers {int(inside.sum())} data points")
    return found


def audit(figure: plt.Figure, key: str) -> list[str] | None:
    """While :data:`RECORDING`, measure ``figure`` and keep its issues under ``key`` (the saved path) in
    :data:`AUDITS`; otherwise do nothing (None)."""
    if not RECORDING:
        return None
    AUDITS[key] = issues(figure)
    return AUDITS[key]
