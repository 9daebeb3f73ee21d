"""Words beside the dots of a scatter, each nudged until it overlaps nothing.

A small greedy search in the spirit of adjustText (not a dependency: it moves labels by
iterating forces, while a handful of dots only needs the nearest free place): every dot is an
obstacle, words are placed in the order given (most important first), and each takes the
nearest offset free of dots, earlier words and the frame; a word that had to move far gets a
thin leader line to its dot.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.backend_bases import RendererBase
    from matplotlib.text import Annotation
    from matplotlib.transforms import Bbox


@dataclass(frozen=True)
class Dot:
    """A drawn marker that words must keep clear of: data position, scatter size in points²."""

    at: tuple[float, float]
    size: float


@dataclass(frozen=True)
class Word:
    """A word to write beside the point `at` (data coordinates)."""

    text: str
    at: tuple[float, float]
    colour: str
    size: float  # font size in points


# Offsets tried for a word, nearest first: right, left, above, below, then the diagonals.
_DIRECTIONS = [(1, 0), (-1, 0), (0, 1), (0, -1), (1, 1), (-1, 1), (1, -1), (-1, -1)]
_RADII_PT = [7, 14, 24, 38, 56]
_LEADER_BEYOND_PT = _RADII_PT[1]  # a word further than this from its dot gets a leader line
_HAlign = Literal["left", "center", "right"]
_VAlign = Literal["bottom", "baseline", "center", "top"]
_Place = tuple[tuple[float, float], _HAlign, _VAlign]
_HA: dict[int, _HAlign] = {1: "left", 0: "center", -1: "right"}
_VA: dict[int, _VAlign] = {1: "bottom", 0: "center", -1: "top"}
_CANDIDATES: list[_Place] = [
    ((dx * r, dy * r), _HA[dx], _VA[dy]) for r in _RADII_PT for dx, dy in _DIRECTIONS
]


def place_words(ax: Axes, dots: Sequence[Dot], words: Sequence[Word]) -> None:
    """Annotate `ax` with `words`, clear of `dots` and of each other; call once layout is final."""
    renderer = ax.figure.canvas.get_renderer()  # type: ignore[attr-defined]
    frame = ax.get_window_extent(renderer)
    taken = [_dot_box(ax, dot) for dot in dots]
    for word in words:
        probe = _annotate(ax, word, (0, 0))
        offset, ha, va = _nearest_free(probe, renderer, taken, frame)
        probe.remove()
        far = max(map(abs, offset)) > _LEADER_BEYOND_PT
        note = _annotate(ax, word, offset, ha, va, leader=far)
        taken.append(note.get_window_extent(renderer))


def _nearest_free(
    note: Annotation, renderer: RendererBase, taken: list[Bbox], frame: Bbox
) -> _Place:
    """The first candidate place that clashes with nothing, else the one that clashes least."""
    best: tuple[float, _Place] | None = None
    for offset, ha, va in _CANDIDATES:
        note.xyann = offset
        note.set_horizontalalignment(ha)
        note.set_verticalalignment(va)
        box = note.get_window_extent(renderer)
        clash = sum(_overlap(box, other) for other in taken)
        clash += box.width * box.height - _overlap(box, frame)  # the part outside the frame
        if clash == 0:
            return offset, ha, va
        if best is None or clash < best[0]:
            best = (clash, (offset, ha, va))
    assert best is not None
    return best[1]


def _annotate(
    ax: Axes,
    word: Word,
    offset: tuple[float, float],
    ha: _HAlign = "left",
    va: _VAlign = "baseline",
    *,
    leader: bool = False,
) -> Annotation:
    return ax.annotate(
        word.text,
        word.at,
        textcoords="offset points",
        xytext=offset,
        ha=ha,
        va=va,
        color=word.colour,
        fontsize=word.size,
        zorder=5,
        arrowprops={"arrowstyle": "-", "color": "#999999", "linewidth": 0.6} if leader else None,
    )


def _dot_box(ax: Axes, dot: Dot) -> Bbox:
    """The display-space square a scatter marker covers, a pixel of margin included."""
    cx, cy = ax.transData.transform(dot.at)
    r = (dot.size**0.5) / 2 * ax.figure.dpi / 72 + 1
    return _box(cx - r, cy - r, cx + r, cy + r)


def _box(x0: float, y0: float, x1: float, y1: float) -> Bbox:
    from matplotlib.transforms import Bbox

    return Bbox([[x0, y0], [x1, y1]])


def _overlap(a: Bbox, b: Bbox) -> float:
    """Area shared by two display-space boxes (0 when apart)."""
    w = min(a.x1, b.x1) - max(a.x0, b.x0)
    h = min(a.y1, b.y1) - max(a.y0, b.y0)
    return max(w, 0.0) * max(h, 0.0)
