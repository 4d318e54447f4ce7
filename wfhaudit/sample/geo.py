"""Sphere geometry with the audit's Earth radius (rules.md: 6 371 008.8 m)."""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from wfhaudit.schema import EARTH_RADIUS_M

Floats = npt.NDArray[np.float64]


def destination(
    lat: Floats | float,
    lon: Floats | float,
    distance_m: Floats | float,
    bearing_rad: Floats | float,
) -> tuple[Floats, Floats]:
    """The point ``distance_m`` from (lat, lon) along ``bearing_rad`` on the sphere."""
    phi1 = np.radians(lat)
    lam1 = np.radians(lon)
    delta = np.asarray(distance_m, dtype=np.float64) / EARTH_RADIUS_M
    theta = np.asarray(bearing_rad, dtype=np.float64)
    sin_phi2 = np.sin(phi1) * np.cos(delta) + np.cos(phi1) * np.sin(delta) * np.cos(theta)
    phi2 = np.arcsin(sin_phi2)
    lam2 = lam1 + np.arctan2(
        np.sin(theta) * np.sin(delta) * np.cos(phi1), np.cos(delta) - np.sin(phi1) * sin_phi2
    )
    return np.degrees(phi2), np.degrees(lam2)


def haversine_m(
    lat1: Floats | float, lon1: Floats | float, lat2: Floats | float, lon2: Floats | float
) -> Floats:
    """Great-circle distance in metres."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dp = p2 - p1
    dl = np.radians(np.asarray(lon2) - np.asarray(lon1))
    a = np.sin(dp / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return np.asarray(2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(a)), dtype=np.float64)


def destination_point(
    lat: float, lon: float, distance_m: float, bearing_rad: float
) -> tuple[float, float]:
    """Scalar :func:`destination` (pure Python, for row-by-row work)."""
    phi1, lam1 = math.radians(lat), math.radians(lon)
    delta = distance_m / EARTH_RADIUS_M
    sin_phi2 = math.sin(phi1) * math.cos(delta) + math.cos(phi1) * math.sin(delta) * math.cos(
        bearing_rad
    )
    phi2 = math.asin(sin_phi2)
    lam2 = lam1 + math.atan2(
        math.sin(bearing_rad) * math.sin(delta) * math.cos(phi1),
        math.cos(delta) - math.sin(phi1) * sin_phi2,
    )
    return math.degrees(phi2), math.degrees(lam2)
