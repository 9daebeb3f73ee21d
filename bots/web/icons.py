"""Draw the page's app icons (192 and 512 px PNGs) with matplotlib; the PNGs are committed.

    python -m bots.web.icons

The background fills the whole square and the sound-wave bars stay inside the central 60 %, so
the same picture works as a "maskable" icon, which launchers crop to a circle or squircle.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from bots.web.shell import STATIC_DIR  # noqa: E402

SIZES = (192, 512)
BACKGROUND = "#5f3dc4"
# Bar heights of a stylised voice wave, as a fraction of the icon's height.
_BARS = (0.14, 0.28, 0.46, 0.30, 0.52, 0.36, 0.20)


def draw_icon(size: int, path: Path) -> Path:
    """One square icon of `size` pixels."""
    fig = plt.figure(figsize=(1, 1), dpi=size)
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.axis("off")
    fig.patch.set_facecolor(BACKGROUND)
    step = 0.6 / len(_BARS)
    for i, height in enumerate(_BARS):
        x = 0.2 + step * (i + 0.5)
        # The figure is one inch (72 points) wide: a bar half a step wide.
        width_pt = step * 0.5 * 72
        ax.plot([x, x], [0.5 - height / 2, 0.5 + height / 2], color="white",
                linewidth=width_pt, solid_capstyle="round")  # fmt: skip
    fig.savefig(path, dpi=size, facecolor=BACKGROUND, pil_kwargs={"optimize": True})
    plt.close(fig)
    return path


def main() -> None:
    for size in SIZES:
        print(draw_icon(size, STATIC_DIR / f"icon-{size}.png"))


if __name__ == "__main__":
    main()
