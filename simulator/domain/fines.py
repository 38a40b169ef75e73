"""КоАП rules for traffic fines: the 50 % discount window, when a fine falls due, and what is owed on a given day."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

__all__ = [
    "DISCOUNT_DAYS",
    "EFFECT_DAYS",
    "ENFORCEMENT_FEE_PERCENT",
    "NO_DISCOUNT_ARTICLES",
    "PAYMENT_DAYS",
    "STATUSES",
    "Article",
    "FineTerms",
    "discount_eligible",
    "enforcement_fee",
    "fine_terms",
    "parse_article",
]

DISCOUNT_CHAPTER = "12"  # КоАП 32.2 ч.1.3 grants the discount to chapter-12 (road traffic) offences only
DISCOUNT_DAYS = 20  # "не позднее двадцати дней со дня вынесения постановления"
EFFECT_DAYS = 10  # a resolution takes effect once the 10-day appeal period after delivery has passed (КоАП 30.3)
PAYMENT_DAYS = 60  # КоАП 32.2 ч.1: pay within 60 days of the resolution taking effect
ENFORCEMENT_FEE_PERCENT = 7  # ФЗ-229 ст.112: the bailiffs' enforcement fee

# (article, part); part None means every part of the article. КоАП 32.2 ч.1.3 lists these as never discounted.
NO_DISCOUNT_ARTICLES: frozenset[tuple[str, str | None]] = frozenset(
    {
        ("12.1", "1.1"),
        ("12.8", None),
        ("12.9", "6"),
        ("12.9", "7"),
        ("12.12", "3"),
        ("12.15", "5"),
        ("12.16", "3.1"),
        ("12.24", None),
        ("12.26", None),
        ("12.27", "3"),
    }
)

UNPAID, PARTIALLY_PAID, PAID, OVERDUE = "unpaid", "partially_paid", "paid", "overdue"
STATUSES = (UNPAID, PARTIALLY_PAID, PAID, OVERDUE)

# "12.9 ч.2", "12.16 ч.3.1", "12.24", "12.21.1 ч.1": article numbers and parts may both have a sub-number.
_ARTICLE = re.compile(r"(?P<chapter>\d+)\.(?P<rest>\d+(?:\.\d+)?)(?:\s*ч\.\s*(?P<part>\d+(?:\.\d+)?))?", re.ASCII)


@dataclass(frozen=True)
class Article:
    chapter: str
    number: str  # "12.9"
    part: str | None  # "2", "3.1" or None when the article has no parts


def parse_article(text: str) -> Article:
    match = _ARTICLE.fullmatch(text.strip()) if isinstance(text, str) else None
    if match is None:
        raise ValueError(f"not a КоАП article: {text!r}; expected e.g. '12.9 ч.2' or '12.24'")
    chapter = match["chapter"]
    return Article(chapter=chapter, number=f"{chapter}.{match['rest']}", part=match["part"])


def discount_eligible(article: str) -> bool:
    """Whether КоАП 32.2 ч.1.3 allows paying half; raises ValueError for text that is not an article."""
    parsed = parse_article(article)
    if parsed.chapter != DISCOUNT_CHAPTER:
        return False
    excluded = (parsed.number, None) in NO_DISCOUNT_ARTICLES or (parsed.number, parsed.part) in NO_DISCOUNT_ARTICLES
    return not excluded


def enforcement_fee(amount: int) -> int:
    """7 % of the debt in kopecks, rounded half up (the legal 1 000 ₽ minimum for citizens is not modelled)."""
    return (amount * ENFORCEMENT_FEE_PERCENT + 50) // 100


@dataclass(frozen=True)
class FineTerms:
    """The money and deadlines of one fine; every amount is integer kopecks, every date a Moscow calendar day."""

    article: str
    amount: int
    discount_amount: int | None
    discount_until: date | None  # inclusive: the discount applies while today <= discount_until
    effective_date: date
    due_date: date  # inclusive: overdue from the day after

    def discount_active(self, today: date) -> bool:
        return self.discount_until is not None and today <= self.discount_until

    def owed(self, today: date, paid: int = 0, *, last_paid_on: date | None = None) -> int:
        """The total the fine is settled by: the discounted half if it was (or is being) paid inside the window."""
        if self.discount_amount is None:
            return self.amount
        if self.discount_active(today):
            return self.discount_amount
        # A fine cleared at half price inside the window stays cleared after the window closes.
        if last_paid_on is not None and self.discount_active(last_paid_on) and paid >= self.discount_amount:
            return self.discount_amount
        return self.amount

    def amount_due(self, today: date, paid: int = 0, *, last_paid_on: date | None = None) -> int:
        """What must be paid now, never negative.

        `last_paid_on` is the day the latest payment was made; without it the payments are taken as made today, so
        a half paid after the window leaves the other half due.
        """
        _check_paid(paid)
        return max(self.owed(today, paid, last_paid_on=last_paid_on) - paid, 0)

    def status(self, today: date, paid: int = 0, *, last_paid_on: date | None = None) -> str:
        """`paid` once nothing is due; else `overdue` after the due date, even if part was paid, because that is
        what sends the fine to the bailiffs; else `partially_paid` when something was paid; else `unpaid`."""
        if self.amount_due(today, paid, last_paid_on=last_paid_on) == 0:
            return PAID
        if today > self.due_date:
            return OVERDUE
        return PARTIALLY_PAID if paid > 0 else UNPAID


def _check_paid(paid: int) -> None:
    if not isinstance(paid, int) or isinstance(paid, bool) or paid < 0:
        raise ValueError(f"paid must be a non-negative number of kopecks, got {paid!r}")


def fine_terms(
    article: str,
    amount: int,
    resolution_date: date,
    delivered_date: date | None = None,
    deferred: bool = False,
) -> FineTerms:
    """Terms of a fine of `amount` kopecks resolved on `resolution_date`.

    The discounted amount is the half rounded up to a whole kopeck (in the state's favour: an odd amount never
    lets the payer underpay by a kopeck). Deadlines ignore non-working days (КоАП 4.8 ч.3 would move them to the
    next working day): the simulator has no production calendar. A deferred or split payment loses the discount.
    A fine without a delivery date is taken as handed over on the spot, on the day of the resolution.
    """
    if not isinstance(amount, int) or isinstance(amount, bool) or amount <= 0:
        raise ValueError(f"amount must be a positive number of kopecks, got {amount!r}")
    if delivered_date is not None and delivered_date < resolution_date:
        raise ValueError(f"delivered on {delivered_date}, before the resolution of {resolution_date}")
    discounted = discount_eligible(article) and not deferred
    effective = (delivered_date or resolution_date) + timedelta(days=EFFECT_DAYS)
    return FineTerms(
        article=article,
        amount=amount,
        discount_amount=amount - amount // 2 if discounted else None,
        discount_until=resolution_date + timedelta(days=DISCOUNT_DAYS) if discounted else None,
        effective_date=effective,
        due_date=effective + timedelta(days=PAYMENT_DAYS),
    )
