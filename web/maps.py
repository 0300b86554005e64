"""The kelurahan map drawn on the server as SVG, from the city pack's boundaries: no tiles, no
script, no internet. A choropleth: each kelurahan shaded by a count, linked to a filter."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from markupsafe import Markup, escape

from storage.boundaries import Shape

WIDTH = 640
BUCKETS = 5  # shades: 0 (none) and four steps up to the highest count


@dataclass(frozen=True, slots=True)
class Area:
    code: str
    path: str  # SVG path data in the map's coordinates
    label_x: float
    label_y: float


@dataclass(frozen=True, slots=True)
class Outline:
    width: int
    height: int
    areas: tuple[Area, ...]


def _outline(shapes: Sequence[Shape], width: int) -> Outline:
    """Project and simplify the polygons once per process (equirectangular at the city's
    latitude: a city is small enough for it to look right)."""
    from shapely.geometry import shape as to_shape

    geometries = [(s.kelurahan_code, to_shape(s.geometry)) for s in shapes]
    if not geometries:
        return Outline(width, 0, ())
    west = min(g.bounds[0] for _c, g in geometries)
    south = min(g.bounds[1] for _c, g in geometries)
    east = max(g.bounds[2] for _c, g in geometries)
    north = max(g.bounds[3] for _c, g in geometries)
    squeeze = math.cos(math.radians((north + south) / 2))
    scale = (width - 8) / max((east - west) * squeeze, 1e-9)
    height = round((north - south) * scale) + 8

    def xy(lon: float, lat: float) -> tuple[float, float]:
        return 4 + (lon - west) * squeeze * scale, 4 + (north - lat) * scale

    areas = []
    tolerance = 1.5 / scale  # about a pixel and a half: invisible, and a much smaller page
    for code, geometry in geometries:
        simple = geometry.simplify(tolerance, preserve_topology=True)
        polygons = getattr(simple, "geoms", [simple])
        parts = []
        for polygon in polygons:
            for ring in (polygon.exterior, *polygon.interiors):
                points = [xy(lon, lat) for lon, lat in ring.coords]
                parts.append("M" + " L".join(f"{x:.1f},{y:.1f}" for x, y in points) + " Z")
        centre = simple.representative_point()
        label_x, label_y = xy(centre.x, centre.y)
        areas.append(Area(code, " ".join(parts), label_x, label_y))
    return Outline(width, height, tuple(areas))


def bucket(count: int, highest: int) -> int:
    """0 for none, else 1..BUCKETS-1 by share of the highest count."""
    if count <= 0 or highest <= 0:
        return 0
    return min(BUCKETS - 1, 1 + int((count / highest) * (BUCKETS - 1) - 1e-9))


class CityMap:
    """The city's kelurahan, projected once (on first use), drawn with any counts."""

    def __init__(self, shapes: Sequence[Shape], width: int = WIDTH) -> None:
        self.shapes = tuple(shapes)
        self.width = width
        self._outline: Outline | None = None

    @property
    def outline(self) -> Outline:
        if self._outline is None:
            self._outline = _outline(self.shapes, self.width)
        return self._outline

    def draw(self, counts: Mapping[str, int], names: Mapping[str, str], *, title: str,
             describe: Callable[[str, int], str],
             href: Callable[[str], str | None] | None = None,
             selected: str | None = None) -> Markup:
        """The map as inline SVG: each kelurahan a path with its name and count as a tooltip,
        shaded by count (CSS classes `q0`..`q4`), a link where `href` gives one."""
        outline = self.outline
        highest = max(counts.values(), default=0)
        out: list[str] = [
            f'<svg class="map" viewBox="0 0 {outline.width} {outline.height}" role="img" '
            f'aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg">',
            f"<title>{escape(title)}</title>"]
        for area in outline.areas:
            count = int(counts.get(area.code, 0))
            tip = escape(describe(names.get(area.code, area.code), count))
            chosen = " chosen" if area.code == selected else ""
            shape = (f'<path class="q{bucket(count, highest)}{chosen}" d="{area.path}">'
                     f"<title>{tip}</title></path>")
            link = href(area.code) if href is not None else None
            if link:
                shape = f'<a href="{escape(link)}" aria-label="{tip}">{shape}</a>'
            out.append(shape)
        out.append("</svg>")
        return Markup("".join(out))


def legend(highest: int) -> list[dict[str, Any]]:
    """The shades and the counts each stands for, for a legend under the map."""
    if highest <= 0:
        return [{"shade": 0, "low": 0, "high": 0}]
    steps = []
    for shade in range(1, BUCKETS):
        low = math.floor((shade - 1) / (BUCKETS - 1) * highest) + 1
        high = math.floor(shade / (BUCKETS - 1) * highest)
        if high >= low:
            steps.append({"shade": shade, "low": low, "high": high})
    return [{"shade": 0, "low": 0, "high": 0}, *steps]
