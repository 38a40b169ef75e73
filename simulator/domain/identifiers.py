"""Russian state identifiers (УИН, ИНН, СНИЛС, ОГРН): check digits, validation and generation."""

from __future__ import annotations

import random
from typing import Any

__all__ = [
    "format_snils",
    "inn_check_digits",
    "is_valid_inn",
    "is_valid_ogrn",
    "is_valid_ogrnip",
    "is_valid_snils",
    "is_valid_uin",
    "make_ogrn",
    "make_org_inn",
    "make_person_inn",
    "make_snils",
    "make_uin",
    "snils_check_digits",
    "uin_check_digit",
]

UIN_LENGTHS = (20, 25)

_INN10_WEIGHTS = (2, 4, 10, 3, 5, 9, 4, 6, 8)
_INN11_WEIGHTS = (7, 2, 4, 10, 3, 5, 9, 4, 6, 8)
_INN12_WEIGHTS = (3, 7, 2, 4, 10, 3, 5, 9, 4, 6, 8)

# The Pension Fund never computed control digits for the first numbers it issued, so they carry no meaning there.
_SNILS_FIRST_CHECKED = 1_001_999


def _is_digits(value: Any, *lengths: int) -> bool:
    # str.isdigit() alone accepts "²" and Arabic-Indic digits; identifiers are plain ASCII.
    return isinstance(value, str) and value.isascii() and value.isdigit() and len(value) in lengths


def _require_digits(value: str, what: str) -> None:
    if not (isinstance(value, str) and value.isascii() and value.isdigit()):
        raise ValueError(f"{what} must be a string of ASCII digits, got {value!r}")


def _random_digits(rng: random.Random, count: int) -> str:
    return "".join(rng.choice("0123456789") for _ in range(count))


# --- УИН -------------------------------------------------------------------------------------------------------------


def uin_check_digit(body: str) -> str:
    """The ГИС ГМП control digit for the УИН body (all digits but the last)."""
    _require_digits(body, "УИН body")
    digits = [int(c) for c in body]
    total = sum(d * (i % 10 + 1) for i, d in enumerate(digits)) % 11
    if total == 10:
        # Second pass with weights shifted by two, as the Treasury order prescribes, before giving up on 0.
        total = sum(d * ((i + 2) % 10 + 1) for i, d in enumerate(digits)) % 11
    return "0" if total == 10 else str(total)


def is_valid_uin(value: object) -> bool:
    return _is_digits(value, *UIN_LENGTHS) and uin_check_digit(value[:-1]) == value[-1]  # type: ignore[index]


def make_uin(prefix: str, rng: random.Random, length: int = 20) -> str:
    """A valid УИН: the given prefix (administrator code and the like), random digits, then the check digit."""
    if length not in UIN_LENGTHS:
        raise ValueError(f"a УИН has {' or '.join(map(str, UIN_LENGTHS))} digits, not {length}")
    if prefix:
        _require_digits(prefix, "УИН prefix")
    if len(prefix) >= length:
        raise ValueError(f"prefix {prefix!r} leaves no room in a {length}-digit УИН")
    body = prefix + _random_digits(rng, length - 1 - len(prefix))
    return body + uin_check_digit(body)


# --- ИНН -------------------------------------------------------------------------------------------------------------


def _weighted_digit(digits: str, weights: tuple[int, ...]) -> str:
    return str(sum(int(d) * w for d, w in zip(digits, weights)) % 11 % 10)


def inn_check_digits(body: str) -> str:
    """Control digits for an ИНН body: 9 digits (organisation) give one, 10 digits (person) give two."""
    _require_digits(body, "ИНН body")
    if len(body) == 9:
        return _weighted_digit(body, _INN10_WEIGHTS)
    if len(body) == 10:
        first = _weighted_digit(body, _INN11_WEIGHTS)
        return first + _weighted_digit(body + first, _INN12_WEIGHTS)
    raise ValueError(f"an ИНН body has 9 or 10 digits, got {len(body)}")


def is_valid_inn(value: object) -> bool:
    if _is_digits(value, 10):
        return inn_check_digits(value[:9]) == value[9]  # type: ignore[index]
    if _is_digits(value, 12):
        return inn_check_digits(value[:10]) == value[10:]  # type: ignore[index]
    return False


def _tax_office(rng: random.Random, region: str) -> str:
    # The first four digits are the issuing inspectorate: region code, then the inspectorate number within it.
    _require_digits(region, "region")
    if len(region) != 2:
        raise ValueError(f"region must be two digits, got {region!r}")
    return region + f"{rng.randint(1, 51):02d}"


def make_person_inn(rng: random.Random, region: str = "77") -> str:
    body = _tax_office(rng, region) + _random_digits(rng, 6)
    return body + inn_check_digits(body)


def make_org_inn(rng: random.Random, region: str = "77") -> str:
    body = _tax_office(rng, region) + _random_digits(rng, 5)
    return body + inn_check_digits(body)


# --- СНИЛС -----------------------------------------------------------------------------------------------------------


def snils_check_digits(body: str) -> str:
    """The two control digits for the 9-digit СНИЛС number."""
    _require_digits(body, "СНИЛС number")
    if len(body) != 9:
        raise ValueError(f"a СНИЛС number has 9 digits, got {len(body)}")
    total = sum(int(d) * (9 - i) for i, d in enumerate(body))
    if total > 101:
        total %= 101
    # Both 100 and 101 (directly or after the modulo) are written as 00.
    return "00" if total >= 100 else f"{total:02d}"


def _snils_digits(value: object) -> str | None:
    if _is_digits(value, 11):
        return value  # type: ignore[return-value]
    if isinstance(value, str) and len(value) == 14 and value[3] == "-" and value[7] == "-" and value[11] == " ":
        bare = value[0:3] + value[4:7] + value[8:11] + value[12:14]
        return bare if _is_digits(bare, 11) else None
    return None


def is_valid_snils(value: object) -> bool:
    """True for `XXX-XXX-XXX YY` or 11 bare digits whose control digits match (numbers above 001-001-998 only)."""
    digits = _snils_digits(value)
    if digits is None or int(digits[:9]) < _SNILS_FIRST_CHECKED:
        return False
    return snils_check_digits(digits[:9]) == digits[9:]


def format_snils(digits11: str) -> str:
    if not _is_digits(digits11, 11):
        raise ValueError(f"a СНИЛС has 11 digits, got {digits11!r}")
    return f"{digits11[0:3]}-{digits11[3:6]}-{digits11[6:9]} {digits11[9:11]}"


def make_snils(rng: random.Random) -> str:
    body = f"{rng.randint(_SNILS_FIRST_CHECKED, 999_999_999):09d}"
    return format_snils(body + snils_check_digits(body))


# --- ОГРН / ОГРНИП ---------------------------------------------------------------------------------------------------


def is_valid_ogrn(value: object) -> bool:
    return _is_digits(value, 13) and int(value[:12]) % 11 % 10 == int(value[12])  # type: ignore[index]


def is_valid_ogrnip(value: object) -> bool:
    return _is_digits(value, 15) and int(value[:14]) % 13 % 10 == int(value[14])  # type: ignore[index]


def make_ogrn(rng: random.Random) -> str:
    # Sign 1 or 5 (a legal entity's main number), two-digit year of entry, region, registry office and record.
    body = rng.choice("15") + f"{rng.randint(2, 24):02d}" + f"{rng.randint(1, 99):02d}" + _random_digits(rng, 7)
    return body + str(int(body) % 11 % 10)
