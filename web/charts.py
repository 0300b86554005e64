"""Bar charts drawn as SVG on the server: no script, no library, readable on a phone and in
print. Each bar carries its label above it (on two lines at most) and its figure after it; a
tooltip says it all."""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

# Narrow enough that a phone shows the chart near its own size (the text stays readable).
WIDTH = 420
LINE = 19  # a line of label
BAR = 16
GAP = 12
VALUE_ROOM = 112  # room after the track for the figure
LABEL_CHARS = 46  # characters of label per line at this width


@dataclass(frozen=True, slots=True)
class Bar:
    label: str
    value: float  # what the bar's length shows (a count, or a share from 0 to 1)
    figure: str  # the figure written after the bar ("12 · 60%")
    tip: str = ""  # the tooltip; the label and figure when empty
    marked: bool = False  # drawn in the highlight colour (a quiz's right answer)


def _label_lines(label: str) -> list[str]:
    lines = textwrap.wrap(label, LABEL_CHARS) or [""]
    if len(lines) > 2:
        lines = [lines[0], textwrap.shorten(" ".join(lines[1:]), LABEL_CHARS, placeholder="…")]
    return lines


def bar_chart(bars: Sequence[Bar], *, title: str, width: int = WIDTH,
              full: float | None = None) -> Markup:
    """Horizontal bars, each on its track, its figure in a column after the tracks: a bar of
    `full` fills its track (a share: 1.0); without it the highest value does."""
    highest = full or max((b.value for b in bars), default=0) or 1
    span = width - VALUE_ROOM - 8
    rows = []
    top = 4
    for bar in bars:
        lines = _label_lines(bar.label)
        rows.append((top, lines, bar))
        top += LINE * len(lines) + BAR + GAP
    height = max(top, LINE + BAR + GAP) + 2
    out = [f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" '
           f'aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg">',
           f"<title>{escape(title)}</title>"]
    for top, lines, bar in rows:
        length = min(span, max(0.0, bar.value / highest * span))
        tip = escape(bar.tip or f"{bar.label}: {bar.figure}")
        marked = " marked" if bar.marked else ""
        below = top + LINE * len(lines)
        text = "".join(f'<text class="label" x="4" y="{top + LINE * (i + 1) - 4}">'
                       f"{escape(line)}</text>" for i, line in enumerate(lines))
        out.append(
            f"<g><title>{tip}</title>{text}"
            f'<rect class="track" x="4" y="{below}" width="{span}" height="{BAR}" rx="3"/>'
            f'<rect class="bar{marked}" x="4" y="{below}" width="{length:.1f}" '
            f'height="{BAR}" rx="3"/>'
            f'<text class="figure" x="{span + 10}" y="{below + BAR - 3}">'
            f"{escape(bar.figure)}</text></g>")
    out.append("</svg>")
    return Markup("".join(out))


def share_bars(rows: Sequence[tuple[str, int, float | None]], *, title: str,
               percent: Callable[[float | None], str], marked: int | None = None) -> Markup:
    """Counts with their shares: (label, count, share) each; a bar's length is its share."""
    return bar_chart([Bar(label, share or 0.0, f"{count} · {percent(share)}",
                          marked=i == marked)
                      for i, (label, count, share) in enumerate(rows)], title=title, full=1.0)
