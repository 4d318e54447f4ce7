"""PP 94/2021 sanctions for accumulated absence in a year (spec ``policy.md``).

The tool only *indicates* the tier an employee's year-to-date equivalent days
reach; the decision is the official's.

Fractional days: the scale counts whole days, so equivalent days are rounded
**down** to whole days before the look-up (3.99 days -> tier of 3 days, 2.99
days -> no tier).  A tolerance of 1e-9 absorbs floating-point noise so that
an exact 3 computed as 2.9999999999 still counts as 3.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

#: absorbs floating-point noise before rounding down
EPSILON = 1e-9


@dataclass(frozen=True)
class SanctionTier:
    """One row of the PP 94/2021 scale for absence."""

    code: str  # stable code used in result files and reports
    min_days: int  # inclusive
    max_days: int | None  # inclusive; None = no upper bound
    level: str  # PP 94/2021 class: "ringan", "sedang" or "berat"
    label_id: str
    label_en: str

    def label(self, lang: str = "id") -> str:
        """The sanction in Bahasa Indonesia (``id``) or English (``en``)."""
        return self.label_en if lang == "en" else self.label_id

    @property
    def days_text(self) -> str:
        """The range of days as written in the regulation's table, e.g. ``4-6`` or ``28+``."""
        if self.max_days is None:
            return f"{self.min_days}+"
        if self.max_days == self.min_days:
            return str(self.min_days)
        return f"{self.min_days}-{self.max_days}"


TIERS: tuple[SanctionTier, ...] = (
    SanctionTier("TEGURAN_LISAN", 3, 3, "ringan", "teguran lisan", "verbal warning"),
    SanctionTier("TEGURAN_TERTULIS", 4, 6, "ringan", "teguran tertulis", "written warning"),
    SanctionTier(
        "PERNYATAAN_TIDAK_PUAS",
        7,
        10,
        "ringan",
        "pernyataan tidak puas secara tertulis",
        "written statement of dissatisfaction",
    ),
    SanctionTier(
        "POTONGAN_TUKIN_6_BULAN",
        11,
        13,
        "sedang",
        "pemotongan tunjangan kinerja 25% selama 6 bulan",
        "performance allowance (tunjangan kinerja) cut 25% for 6 months",
    ),
    SanctionTier(
        "POTONGAN_TUKIN_9_BULAN",
        14,
        16,
        "sedang",
        "pemotongan tunjangan kinerja 25% selama 9 bulan",
        "performance allowance (tunjangan kinerja) cut 25% for 9 months",
    ),
    SanctionTier(
        "POTONGAN_TUKIN_12_BULAN",
        17,
        20,
        "sedang",
        "pemotongan tunjangan kinerja 25% selama 12 bulan",
        "performance allowance (tunjangan kinerja) cut 25% for 12 months",
    ),
    SanctionTier(
        "PENURUNAN_JABATAN",
        21,
        24,
        "berat",
        "penurunan jabatan setingkat lebih rendah selama 12 bulan",
        "demotion one level for 12 months",
    ),
    SanctionTier(
        "PEMBEBASAN_JABATAN",
        25,
        27,
        "berat",
        "pembebasan dari jabatannya menjadi jabatan pelaksana selama 12 bulan",
        "moved to a pelaksana (non-managerial) position for 12 months",
    ),
    SanctionTier(
        "PEMBERHENTIAN",
        28,
        None,
        "berat",
        "pemberhentian dengan hormat tidak atas permintaan sendiri sebagai PNS",
        "dismissal (honourable discharge not at own request)",
    ),
)

TIERS_BY_CODE: dict[str, SanctionTier] = {tier.code: tier for tier in TIERS}


def whole_days(equivalent_days: float) -> int:
    """Equivalent days rounded down to whole days (with a 1e-9 tolerance)."""
    return math.floor(equivalent_days + EPSILON)


def tier_for(equivalent_days: float | None) -> SanctionTier | None:
    """The tier reached by ``equivalent_days`` in a year, or None below 3 whole days."""
    if equivalent_days is None or math.isnan(equivalent_days):
        return None
    days = whole_days(equivalent_days)
    for tier in TIERS:
        if days >= tier.min_days and (tier.max_days is None or days <= tier.max_days):
            return tier
    return None


def sanction_tier(equivalent_days: float | None) -> str | None:
    """The code of the tier reached (e.g. ``TEGURAN_LISAN``), or None below 3 whole days."""
    tier = tier_for(equivalent_days)
    return tier.code if tier else None


def sanction_label(code: str | None, lang: str = "id") -> str | None:
    """The label of a tier code in ``id`` or ``en``; None for None."""
    if code is None:
        return None
    return TIERS_BY_CODE[code].label(lang)
