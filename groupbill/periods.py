"""Terms and anchored periods.

A recurring service's period n starts at anchor + n terms, always computed from the
anchor (never from the previous period), so a service anchored on Jan 31 renews on Feb 28
(or 29), Mar 31, Apr 30: month ends do not drift.
"""

import functools
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from babel.dates import format_date
from dateutil.relativedelta import relativedelta


class TermUnit(StrEnum):
    DAY = "day"
    WEEK = "week"
    MONTH = "month"
    YEAR = "year"


@dataclass(frozen=True)
class Term:
    unit: TermUnit
    count: int = 1

    def __post_init__(self):
        if self.count < 1:
            raise ValueError("a term is at least one unit long")

    def times(self, n: int) -> relativedelta:
        k = self.count * n
        match self.unit:
            case TermUnit.DAY:
                return relativedelta(days=k)
            case TermUnit.WEEK:
                return relativedelta(weeks=k)
            case TermUnit.MONTH:
                return relativedelta(months=k)
            case TermUnit.YEAR:
                return relativedelta(years=k)

    def __str__(self) -> str:
        return f"{self.count} {self.unit}{'s' if self.count != 1 else ''}"


@functools.cache
def term_of(unit: str, count: int) -> Term:
    """The one Term of this unit and count: period caches keyed on a term then find it by
    identity, without the dataclass's equality in Python."""
    return Term(TermUnit(unit), count)


@functools.lru_cache(maxsize=65536)
def period_start(anchor: date, term: Term, n: int) -> date:
    # Cached: services share anchors, and a run asks for the same periods again and again.
    return anchor + term.times(n)


def period(anchor: date, term: Term, n: int) -> tuple[date, date]:
    """Period n as [start, end): end is the next period's start."""
    return period_start(anchor, term, n), period_start(anchor, term, n + 1)


def period_index(anchor: date, term: Term, day: date) -> int:
    """The n whose period contains `day` (negative before the anchor)."""
    # Estimate from the average length, then correct: cheap even for daily terms far out.
    approx_days = {TermUnit.DAY: 1, TermUnit.WEEK: 7, TermUnit.MONTH: 30.436875,
                   TermUnit.YEAR: 365.2425}[term.unit] * term.count  # fmt: skip
    n = int((day - anchor).days // approx_days)
    while period_start(anchor, term, n) > day:
        n -= 1
    while period_start(anchor, term, n + 1) <= day:
        n += 1
    return n


def local_date(moment: datetime, timezone: str) -> date:
    """The calendar day `moment` falls on in a company's time zone."""
    if moment.tzinfo is None:
        raise ValueError("an aware datetime is required")
    return moment.astimezone(ZoneInfo(timezone)).date()


@functools.lru_cache(maxsize=4096)
def date_range(start: date, end: date, language: str) -> str:
    """[start, end) as people read it: both days inclusive, in the client's language.
    Cached: a run writes the same few ranges on thousands of lines."""
    locale = language.replace("-", "_")
    try:
        first = format_date(start, format="medium", locale=locale)
        last = format_date(end - timedelta(days=1), format="medium", locale=locale)
    except (ValueError, LookupError):
        first, last = start.isoformat(), (end - timedelta(days=1)).isoformat()
    return f"{first} \u2013 {last}"  # en dash
