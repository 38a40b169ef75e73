"""КоАП fine rules: who gets the 50 % discount, for how long, when a fine falls due, and what its status is."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from simulator.domain.fines import (
    NO_DISCOUNT_ARTICLES,
    FineTerms,
    discount_eligible,
    enforcement_fee,
    fine_terms,
    parse_article,
)

RESOLVED = date(2026, 3, 2)


def days(n: int) -> timedelta:
    return timedelta(days=n)


@pytest.mark.parametrize(
    "article",
    ["12.9 ч.2", "12.9 ч.3", "12.12 ч.1", "12.16 ч.1", "12.16 ч.3", "12.6", "12.18", "12.15 ч.4", "12.1 ч.1",
     "12.27 ч.1", "12.37 ч.2", "12.21.1 ч.1"],
)  # fmt: skip
def test_chapter_twelve_articles_outside_the_list_get_the_discount(article):
    assert discount_eligible(article)


@pytest.mark.parametrize(
    "article",
    ["12.8", "12.8 ч.1", "12.8 ч.3", "12.9 ч.6", "12.9 ч.7", "12.12 ч.3", "12.15 ч.5", "12.16 ч.3.1", "12.24",
     "12.24 ч.2", "12.26 ч.1", "12.27 ч.3", "12.1 ч.1.1"],
)  # fmt: skip
def test_articles_that_koap_excludes_never_get_the_discount(article):
    assert not discount_eligible(article)


def test_drunk_driving_never_gets_a_discount_whatever_the_part():
    for part in ("", " ч.1", " ч.2", " ч.3", " ч.4"):
        assert not discount_eligible("12.8" + part)
        assert fine_terms("12.8" + part, 3000000, RESOLVED).discount_amount is None


def test_speeding_by_20_to_40_is_discounted_but_a_repeat_of_40_to_60_is_not():
    assert discount_eligible("12.9 ч.2")
    assert not discount_eligible("12.9 ч.6")


def test_an_article_outside_chapter_twelve_gets_no_discount():
    assert not discount_eligible("20.25 ч.1")
    assert not discount_eligible("8.23")


def test_every_excluded_article_in_the_table_is_refused():
    for number, part in NO_DISCOUNT_ARTICLES:
        assert not discount_eligible(number if part is None else f"{number} ч.{part}")


@pytest.mark.parametrize("text", ["", "12", "ч.2", "12.9 ч.", "12.9 part 2", None, 12.9])
def test_text_that_is_not_an_article_is_refused(text):
    with pytest.raises(ValueError):
        discount_eligible(text)


def test_an_article_is_split_into_chapter_number_and_part():
    article = parse_article("12.16 ч.3.1")
    assert (article.chapter, article.number, article.part) == ("12", "12.16", "3.1")
    assert parse_article("12.24").part is None
    assert parse_article("12.9ч. 2").part == "2"


def test_a_fine_resolved_ten_days_ago_is_due_at_half_price():
    terms = fine_terms("12.9 ч.2", 50000, RESOLVED)
    assert terms.amount_due(RESOLVED + days(10)) == 25000
    assert terms.status(RESOLVED + days(10), 0) == "unpaid"


def test_the_discount_holds_on_the_twentieth_day_and_is_gone_on_the_twenty_first():
    terms = fine_terms("12.9 ч.2", 50000, RESOLVED)
    assert terms.discount_until == RESOLVED + days(20)
    assert terms.discount_active(RESOLVED + days(20))
    assert terms.amount_due(RESOLVED + days(20)) == 25000
    assert not terms.discount_active(RESOLVED + days(21))
    assert terms.amount_due(RESOLVED + days(21)) == 50000


def test_an_odd_amount_is_halved_in_the_states_favour():
    assert fine_terms("12.9 ч.2", 50001, RESOLVED).discount_amount == 25001


def test_a_deferred_fine_loses_the_discount():
    terms = fine_terms("12.9 ч.2", 50000, RESOLVED, deferred=True)
    assert terms.discount_amount is None and terms.discount_until is None
    assert terms.amount_due(RESOLVED + days(1)) == 50000


def test_a_fine_takes_effect_ten_days_after_delivery_and_is_due_sixty_days_later():
    terms = fine_terms("12.9 ч.2", 50000, RESOLVED, delivered_date=RESOLVED + days(5))
    assert terms.effective_date == RESOLVED + days(15)
    assert terms.due_date == RESOLVED + days(75)
    # The discount window counts from the resolution, not from delivery.
    assert terms.discount_until == RESOLVED + days(20)


def test_a_fine_without_a_delivery_date_takes_effect_ten_days_after_the_resolution():
    assert fine_terms("12.6", 100000, RESOLVED).effective_date == RESOLVED + days(10)


def test_a_fine_becomes_overdue_the_day_after_its_due_date():
    terms = fine_terms("12.9 ч.2", 50000, RESOLVED)
    assert terms.status(terms.due_date, 0) == "unpaid"
    assert terms.status(terms.due_date + days(1), 0) == "overdue"


def test_a_fine_paid_at_half_price_inside_the_window_is_paid():
    terms = fine_terms("12.9 ч.2", 50000, RESOLVED)
    assert terms.amount_due(RESOLVED + days(3), paid=25000) == 0
    assert terms.status(RESOLVED + days(3), 25000) == "paid"


def test_a_half_paid_inside_the_window_stays_paid_after_the_window_when_the_payment_date_is_known():
    terms = fine_terms("12.9 ч.2", 50000, RESOLVED)
    later = RESOLVED + days(100)
    assert terms.status(later, 25000, last_paid_on=RESOLVED + days(20)) == "paid"
    assert terms.status(later, 25000, last_paid_on=RESOLVED + days(21)) == "overdue"


def test_half_paid_after_the_window_leaves_the_other_half_due():
    terms = fine_terms("12.9 ч.2", 50000, RESOLVED)
    today = RESOLVED + days(30)
    assert terms.amount_due(today, paid=25000) == 25000
    assert terms.status(today, 25000) == "partially_paid"


def test_a_partly_paid_fine_past_its_due_date_is_overdue():
    terms = fine_terms("12.9 ч.2", 50000, RESOLVED)
    assert terms.status(terms.due_date + days(1), 10000) == "overdue"


def test_an_overpaid_fine_owes_nothing_and_is_paid():
    terms = fine_terms("12.6", 100000, RESOLVED)
    assert terms.amount_due(RESOLVED + days(40), paid=150000) == 0
    assert terms.status(RESOLVED + days(400), 150000) == "paid"


def test_a_discount_ineligible_fine_is_due_in_full_from_the_first_day():
    terms = fine_terms("12.9 ч.6", 200000, RESOLVED)
    assert terms.discount_amount is None
    assert terms.amount_due(RESOLVED) == 200000


@pytest.mark.parametrize("amount", [0, -100, 500.0, True, "50000"])
def test_a_fine_must_be_a_positive_number_of_kopecks(amount):
    with pytest.raises(ValueError):
        fine_terms("12.9 ч.2", amount, RESOLVED)


def test_a_negative_payment_is_refused():
    with pytest.raises(ValueError):
        fine_terms("12.9 ч.2", 50000, RESOLVED).amount_due(RESOLVED, paid=-1)


def test_delivery_before_the_resolution_is_refused():
    with pytest.raises(ValueError):
        fine_terms("12.9 ч.2", 50000, RESOLVED, delivered_date=RESOLVED - days(1))


def test_fine_terms_are_immutable():
    terms = fine_terms("12.9 ч.2", 50000, RESOLVED)
    assert isinstance(terms, FineTerms)
    with pytest.raises(AttributeError):
        terms.amount = 1  # type: ignore[misc]


def test_the_enforcement_fee_is_seven_percent_rounded_to_the_kopeck():
    assert enforcement_fee(100000) == 7000
    assert enforcement_fee(50) == 4  # 3.5 kopecks round half up
