"""What every chart shares: the fonts, one lock for matplotlib's global settings, and PNG out.

matplotlib draws off-screen (Agg), so no display is needed. Charts are drawn under
`matplotlib.rc_context`, which changes matplotlib's global settings while it lasts, and the bots
draw on worker threads: one lock for all charts keeps two drawings from mixing their settings.
"""

from __future__ import annotations

import importlib.util
import io
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from matplotlib.figure import Figure

CHART_DPI = 150
_CHART_LOCK = threading.Lock()


def render_png(draw: Callable[[], Figure], *, font_size: float) -> bytes:
    """Draw one figure with `draw` and save it as PNG, one chart at a time."""
    import matplotlib

    matplotlib.use("Agg")
    with _CHART_LOCK, styled(font_size):
        buffer = io.BytesIO()
        draw().savefig(buffer, format="png", dpi=CHART_DPI)
    return buffer.getvalue()


@contextmanager
def styled(font_size: float) -> Iterator[None]:
    """matplotlib's settings while a chart is drawn: our fonts, at `font_size` points."""
    import matplotlib

    with matplotlib.rc_context({"font.family": font_family(), "font.size": font_size}):
        yield


@cache
def font_family() -> list[str]:
    """NanumGothic (shipped by koreanize-matplotlib) first for Hangul, DejaVu Sans for the rest."""
    from matplotlib import font_manager

    # Found without importing the package: importing it rewrites matplotlib's global rcParams.
    spec = importlib.util.find_spec("koreanize_matplotlib")
    if spec is None or not spec.submodule_search_locations:
        return ["DejaVu Sans"]
    fonts = Path(next(iter(spec.submodule_search_locations))) / "fonts"
    for name in ("NanumGothic.ttf", "NanumGothicBold.ttf"):
        font_manager.fontManager.addfont(str(fonts / name))
    return ["NanumGothic", "DejaVu Sans"]
