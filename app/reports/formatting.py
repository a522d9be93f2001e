"""How numbers, money and dates read in a printed report (US English, as the legislature reads them)."""
from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


def number(n: int | float | None) -> str:
    """``1234`` -> ``"1,234"``; ``None`` -> an en dash (no value)."""
    if n is None:
        return "–"
    if isinstance(n, float) and not n.is_integer():
        return f"{n:,.1f}"
    return f"{int(n):,}"


def money(cents: int | None) -> str:
    """Integer cents -> ``"$1,234.50"``; negative amounts as ``"-$12.00"``; ``None`` -> an en dash."""
    if cents is None:
        return "–"
    sign = "-" if cents < 0 else ""
    dollars, rest = divmod(abs(int(cents)), 100)
    return f"{sign}${dollars:,}.{rest:02d}"


def long_date(d: date | datetime | None) -> str:
    """``date(2026, 3, 4)`` -> ``"March 4, 2026"``; ``None`` -> an en dash."""
    if d is None:
        return "–"
    return f"{d:%B} {d.day}, {d.year}"


def short_date(d: date | datetime | None) -> str:
    """``"Mar 4, 2026"`` for narrow table columns; ``None`` -> an en dash."""
    if d is None:
        return "–"
    return f"{d:%b} {d.day}, {d.year}"


def local_time(t: datetime) -> str:
    """A meeting time in Connecticut: ``"2:00 p.m. EST"`` (UTC when the time-zone data is missing)."""
    try:
        t = t.astimezone(ZoneInfo("America/New_York"))
    except ZoneInfoNotFoundError:  # a bundle without tzdata: say UTC rather than guess
        t = t.astimezone(UTC)
    return f"{t.hour % 12 or 12}:{t:%M} {'a.m.' if t.hour < 12 else 'p.m.'} {t.tzname()}"


def percent(part: int | float, whole: int | float) -> str:
    """``part / whole`` as ``"42.5%"``; an en dash when ``whole`` is zero."""
    if not whole:
        return "–"
    return f"{100.0 * part / whole:.1f}%"


def days(d: float | None) -> str:
    """A duration in days, one decimal when not whole; an en dash when unknown."""
    if d is None:
        return "–"
    return f"{d:,.0f} days" if float(d).is_integer() else f"{d:,.1f} days"


def fiscal_year_label(fy: int) -> str:
    """Connecticut's fiscal year ``fy`` runs July 1 of ``fy - 1`` to June 30 of ``fy``: ``"FY 2025–26"``."""
    return f"FY {fy - 1}–{fy % 100:02d}"


def fiscal_year_bounds(fy: int) -> tuple[date, date]:
    """First and last day of Connecticut fiscal year ``fy`` (July 1 of ``fy - 1`` to June 30 of ``fy``)."""
    return date(fy - 1, 7, 1), date(fy, 6, 30)


def fiscal_year_of(d: date) -> int:
    """The fiscal year a date falls in (July 2025 -> 2026)."""
    return d.year + 1 if d.month >= 7 else d.year
