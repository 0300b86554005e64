"""Which kelurahan a shared location lies in: the city pack's boundaries, looked up with shapely.

The polygons are projected once onto a flat plane in metres around the city (at Binjai's
latitude an equirectangular projection is off by far less than the boundaries' own accuracy),
then held in an STRtree: a lookup is a tree query and a point-in-polygon test.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

# A point outside every kelurahan but this close to one is at the city's edge: the resident is
# asked whether it is that kelurahan. Farther away it is outside the city.
EDGE_METRES = 300.0
_METRES_PER_DEGREE = 111_320.0


@dataclass(frozen=True, slots=True)
class Located:
    """Where a point is: the kelurahan, and how far outside its boundary (0 inside it)."""

    kelurahan_code: str
    metres_outside: float

    @property
    def inside(self) -> bool:
        return self.metres_outside == 0.0


@dataclass(frozen=True, slots=True)
class Shape:
    """One kelurahan's boundary as the pack gives it (GeoJSON geometry, longitude first)."""

    kelurahan_code: str
    geometry: dict[str, Any]


class Boundaries:
    """The kelurahan polygons; built on first use (shapely is loaded then, not at start-up)."""

    def __init__(self, shapes: Sequence[Shape]) -> None:
        self.shapes = tuple(shapes)
        self._tree: Any = None
        self._codes: list[str] = []
        lats = [lat for s in self.shapes for _lon, lat in _points(s.geometry)]
        self._lat0 = sum(lats) / len(lats) if lats else 0.0
        self._lon_scale = _METRES_PER_DEGREE * math.cos(math.radians(self._lat0))

    def _xy(self, lonlat: Any) -> Any:
        """Longitude and latitude (an array of pairs) to metres on the city's plane."""
        return (lonlat - (0.0, self._lat0)) * (self._lon_scale, _METRES_PER_DEGREE)

    def build(self) -> None:
        """Project the polygons and index them (once; `emas serve` does it at start)."""
        if self._tree is not None or not self.shapes:
            return
        from shapely import STRtree, transform
        from shapely.geometry import shape

        polygons = [transform(shape(each.geometry), self._xy) for each in self.shapes]
        self._codes = [each.kelurahan_code for each in self.shapes]
        self._tree = STRtree(polygons)

    def locate(self, lat: float, lon: float) -> Located | None:
        """The kelurahan the point lies in; at the edge, the nearest one within EDGE_METRES;
        None when the point is farther from every kelurahan (or there are no boundaries)."""
        if not self.shapes or not (math.isfinite(lat) and math.isfinite(lon)):
            return None
        self.build()
        import numpy as np
        from shapely.geometry import Point

        point = Point(self._xy(np.array([lon, lat])))
        inside = [int(i) for i in self._tree.query(point, predicate="intersects")]
        if inside:
            # On a shared edge both contain the point; the first in the pack's order wins.
            return Located(self._codes[min(inside)], 0.0)
        nearest = self._tree.query_nearest(point, max_distance=EDGE_METRES, return_distance=True)
        indices, distances = nearest
        if len(indices) == 0:
            return None
        best = min(range(len(indices)), key=lambda k: (float(distances[k]), int(indices[k])))
        return Located(self._codes[int(indices[best])], round(float(distances[best]), 1))


def _points(geometry: dict[str, Any]) -> list[tuple[float, float]]:
    kind, coords = geometry.get("type"), geometry.get("coordinates") or []
    rings = coords if kind == "Polygon" else [r for poly in coords for r in poly]
    return [(float(p[0]), float(p[1])) for ring in rings for p in ring]
