"""Bulk citizens for load and CI: deterministic persons with fines and debts whose identifiers all pass their checks."""

from __future__ import annotations

import json
import random
import string
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any, TypeVar

from faker import Faker

from .domain.fines import DISCOUNT_DAYS, enforcement_fee
from .domain.identifiers import make_person_inn, make_snils, make_uin

__all__ = ["DATA_EPOCH", "PAYEE_KEYS", "generate_persons", "write_dataset"]

Progress = Callable[[int, int], None]
T = TypeVar("T")

# Absolute dates (births, documents) lie before this day and never depend on when the data is generated; dates of
# charges are offsets ("-12d") that the loader adds to the simulator's anchor date, so fines stay fresh forever.
DATA_EPOCH = date(2025, 6, 1)
_PROGRESS_EVERY = 1000

GIBDD_KBK = "18811601123010001140"  # chapter-12 КоАП fines imposed by ГИБДД
TAX_KBK = "18201061201010000510"  # the single tax payment (ЕНП), DOMAIN.md
FSSP_KBK = "32211502010016000140"  # unverified: any КБК of administrator 322 keeps the УИН/КБК prefix rule
PAYEE_KEYS = ("gibdd_77", "gibdd_78", "gibdd_50", "fns", "fssp_77", "fssp_78")

PLATE_LETTERS = "АВЕКМНОРСТУХ"  # the Cyrillic letters that have Latin look-alikes, the only ones plates use

_LATIN = "a b v g d e e zh z i y k l m n o p r s t u f kh ts ch sh shch - y - e yu ya".split()
_TRANSLIT = str.maketrans({cyr: lat.strip("-") for cyr, lat in zip("абвгдеёжзийклмнопрстуфхцчшщъыьэюя", _LATIN)})
_MAIL_DOMAINS = ("mail.ru", "yandex.ru", "gmail.com", "bk.ru", "inbox.ru", "list.ru", "rambler.ru")
_PASSWORD_ALPHABET = string.ascii_letters + string.digits


@dataclass(frozen=True)
class _Region:
    code: str
    okato: str  # first two digits of a passport series
    oktmo: str
    offices: tuple[str, ...]  # first three digits of the passport issuing office code
    plates: tuple[str, ...]
    gibdd: str
    fssp: str  # there is no fssp_50 payee: Moscow-region debtors are served by Moscow departments here
    fssp_departments: tuple[tuple[str, str], ...]  # (five-digit department code, name)
    city: str
    mvd: str
    ufms: str  # the passport office before 2017, with a {district} to fill
    districts: tuple[str, ...]
    camera_department: str
    patrol_departments: tuple[str, ...]
    roads: tuple[str, ...]


_MOSCOW_FSSP = (
    ("77001", "ОСП по Центральному АО № 1 ГУФССП России по г. Москве"),
    ("77023", "Перовский ОСП ГУФССП России по г. Москве"),
    ("77024", "Хорошевский ОСП ГУФССП России по г. Москве"),
    ("77053", "Тушинский ОСП ГУФССП России по г. Москве"),
)
_REGIONS = (
    _Region(
        code="77",
        okato="45",
        oktmo="45000000",
        offices=("770", "771", "772"),
        plates=("77", "97", "99", "177", "197", "199", "777", "797", "799", "977"),
        gibdd="gibdd_77",
        fssp="fssp_77",
        fssp_departments=_MOSCOW_FSSP,
        city="г. Москва",
        mvd="ГУ МВД России по г. Москве",
        ufms="Отделением УФМС России по гор. Москве по району {district}",
        districts=("Хамовники", "Арбат", "Тверской", "Басманный", "Сокольники", "Измайлово", "Марьино", "Митино"),
        camera_department="ЦАФАП ОДД ГИБДД ГУ МВД России по г. Москве",
        patrol_departments=(
            "ОБ ДПС ГИБДД УВД по ЦАО ГУ МВД России по г. Москве",
            "1 СБ ДПС ГИБДД ГУ МВД России по г. Москве",
            "2 СБ ДПС ГИБДД ГУ МВД России по г. Москве",
        ),
        roads=("МКАД", "ТТК", "Варшавское ш.", "Ленинградский пр-т", "Кутузовский пр-т"),
    ),
    _Region(
        code="78",
        okato="40",
        oktmo="40000000",
        offices=("780", "782"),
        plates=("78", "98", "178", "198"),
        gibdd="gibdd_78",
        fssp="fssp_78",
        fssp_departments=(
            ("78011", "Центральный РОСП ГУФССП России по г. Санкт-Петербургу"),
            ("78004", "Калининский РОСП ГУФССП России по г. Санкт-Петербургу"),
            ("78017", "Приморский РОСП ГУФССП России по г. Санкт-Петербургу"),
        ),
        city="г. Санкт-Петербург",
        mvd="ГУ МВД России по г. Санкт-Петербургу и Ленинградской области",
        ufms="ТП № 52 Отдела УФМС России по Санкт-Петербургу и Ленинградской обл. в {district} районе",
        districts=("Приморском", "Калининском", "Московском", "Невском", "Выборгском", "Центральном"),
        camera_department="ЦАФАП ГИБДД ГУ МВД России по г. Санкт-Петербургу и Ленинградской области",
        patrol_departments=(
            "ОБ ДПС ГИБДД ГУ МВД России по г. Санкт-Петербургу и Ленинградской области",
            "ОГИБДД УМВД России по Приморскому району г. Санкт-Петербурга",
        ),
        roads=("КАД", "ЗСД", "Московское ш.", "Невский пр-т", "пр-т Энгельса"),
    ),
    _Region(
        code="50",
        okato="46",
        oktmo="46000000",
        offices=("500", "502", "503"),
        plates=("50", "90", "150", "190", "750", "790"),
        gibdd="gibdd_50",
        fssp="fssp_77",
        fssp_departments=_MOSCOW_FSSP,
        city="Московская обл., г. Химки",
        mvd="ГУ МВД России по Московской области",
        ufms="ТП № 2 ОУФМС России по Московской обл. по {district}",
        districts=("г.о. Химки", "Красногорскому р-ну", "г.о. Мытищи", "Одинцовскому р-ну", "г.о. Балашиха"),
        camera_department="ЦАФАП ГИБДД ГУ МВД России по Московской области",
        patrol_departments=(
            "15 Б 1 П ДПС ГИБДД «Северный» ГУ МВД России по Московской области",
            "ОГИБДД УМВД России по г.о. Химки",
        ),
        roads=("а/д М-11 «Нева»", "а/д М-10 «Россия»", "а/д А-107 ММК", "Новорижское ш.", "Ярославское ш."),
    ),
)
_REGION_WEIGHTS = (50, 25, 25)


# КоАП article -> (amount in kopecks: the fixed fine or the lowest of its range, as a camera imposes; description).
_ARTICLES: dict[str, tuple[int, str]] = {
    "12.1 ч.1": (50000, "Управление транспортным средством, не зарегистрированным в установленном порядке"),
    "12.1 ч.1.1": (
        500000,
        "Повторное управление транспортным средством, не зарегистрированным в установленном порядке",
    ),
    "12.2 ч.1": (
        50000,
        "Управление транспортным средством с нечитаемыми, нестандартными или установленными с нарушением требований "
        "государственного стандарта государственными регистрационными знаками",
    ),
    "12.3 ч.2": (
        50000,
        "Управление транспортным средством водителем, не имеющим при себе документов, предусмотренных Правилами "
        "дорожного движения",
    ),
    "12.5 ч.3.1": (
        50000,
        "Управление транспортным средством, на котором установлены стекла, светопропускание которых не соответствует "
        "требованиям технического регламента",
    ),
    "12.6": (100000, "Управление транспортным средством водителем, не пристегнутым ремнем безопасности"),
    "12.8 ч.1": (3000000, "Управление транспортным средством водителем, находящимся в состоянии опьянения"),
    "12.9 ч.2": (
        50000,
        "Превышение установленной скорости движения транспортного средства на величину более 20, но не более 40 "
        "километров в час",
    ),
    "12.9 ч.3": (
        100000,
        "Превышение установленной скорости движения транспортного средства на величину более 40, но не более 60 "
        "километров в час",
    ),
    "12.9 ч.4": (
        200000,
        "Превышение установленной скорости движения транспортного средства на величину более 60, но не более 80 "
        "километров в час",
    ),
    "12.9 ч.6": (
        200000,
        "Повторное превышение установленной скорости движения на величину более 40, но не более 60 километров в час",
    ),
    "12.12 ч.1": (100000, "Проезд на запрещающий сигнал светофора или на запрещающий жест регулировщика"),
    "12.12 ч.2": (
        80000,
        "Невыполнение требования Правил дорожного движения об остановке перед стоп-линией при запрещающем сигнале "
        "светофора",
    ),
    "12.12 ч.3": (500000, "Повторный проезд на запрещающий сигнал светофора или на запрещающий жест регулировщика"),
    "12.15 ч.4": (
        500000,
        "Выезд в нарушение Правил дорожного движения на полосу, предназначенную для встречного движения",
    ),
    "12.15 ч.5": (
        1000000,
        "Повторный выезд в нарушение Правил дорожного движения на полосу, предназначенную для встречного движения",
    ),
    "12.16 ч.1": (
        50000,
        "Несоблюдение требований, предписанных дорожными знаками или разметкой проезжей части дороги",
    ),
    "12.16 ч.2": (
        100000,
        "Поворот налево или разворот в нарушение требований, предписанных дорожными знаками или разметкой проезжей "
        "части дороги",
    ),
    "12.16 ч.3.1": (500000, "Повторное движение во встречном направлении по дороге с односторонним движением"),
    "12.17 ч.1.1": (150000, "Движение транспортного средства по полосе для маршрутных транспортных средств"),
    "12.18": (
        150000,
        "Невыполнение требования Правил дорожного движения уступить дорогу пешеходам, пользующимся преимуществом в "
        "движении",
    ),
    "12.24 ч.1": (
        250000,
        "Нарушение Правил дорожного движения, повлекшее причинение легкого вреда здоровью потерпевшего",
    ),
    "12.26 ч.1": (
        4500000,
        "Невыполнение водителем законного требования о прохождении медицинского освидетельствования на состояние "
        "опьянения",
    ),
    "12.29 ч.1": (50000, "Нарушение пешеходом Правил дорожного движения"),
    "12.37 ч.2": (
        80000,
        "Неисполнение владельцем транспортного средства обязанности по страхованию своей гражданской ответственности",
    ),
}
# Article -> how often it turns up. Cameras fix these without a stop, and their fines go to the vehicle's owner.
_CAMERA_ARTICLES = {
    "12.9 ч.2": 60, "12.9 ч.3": 8, "12.9 ч.4": 2, "12.9 ч.6": 2, "12.12 ч.1": 6, "12.12 ч.2": 5, "12.12 ч.3": 1,
    "12.16 ч.1": 8, "12.16 ч.2": 3, "12.16 ч.3.1": 1, "12.17 ч.1.1": 3, "12.6": 3, "12.18": 3, "12.15 ч.4": 2,
    "12.15 ч.5": 1, "12.37 ч.2": 3,
}  # fmt: skip
# An inspector writes these at a stop, to the driver.
_PATROL_ARTICLES = {
    "12.6": 10, "12.2 ч.1": 5, "12.3 ч.2": 5, "12.5 ч.3.1": 8, "12.18": 6, "12.37 ч.2": 6, "12.1 ч.1": 2,
    "12.1 ч.1.1": 1, "12.15 ч.4": 2, "12.24 ч.1": 1, "12.8 ч.1": 1, "12.26 ч.1": 1,
}  # fmt: skip
_PEDESTRIAN_ARTICLE = "12.29 ч.1"  # what a person with neither licence nor car gets fined for

_CAR_MODELS = (
    "LADA Granta", "LADA Vesta", "LADA Niva Travel", "Kia Rio", "Hyundai Solaris", "Volkswagen Polo", "Skoda Octavia",
    "Toyota Camry", "Toyota RAV4", "Renault Logan", "Renault Duster", "Haval Jolion", "Chery Tiggo 7 Pro",
    "Geely Coolray", "Mercedes-Benz E 200", "BMW X5", "Nissan Qashqai", "Mazda CX-5", "Kia Sportage", "UAZ Patriot",
)  # fmt: skip

# Tax kind -> (description, lowest and highest amount in roubles).
_TAX_KINDS: dict[str, tuple[str, int, int]] = {
    "transport": ("Транспортный налог с физических лиц за {period} год", 500, 25000),
    "property": ("Налог на имущество физических лиц за {period} год", 200, 6000),
    "land": ("Земельный налог с физических лиц за {period} год", 300, 8000),
    "income": ("Налог на доходы физических лиц, не удержанный налоговым агентом, за {period} год", 1000, 40000),
}
# Subject of enforcement -> (lowest and highest amount in roubles, how often it turns up).
_FSSP_SUBJECTS: dict[str, tuple[int, int, int]] = {
    "Задолженность по кредитным платежам (кроме ипотеки)": (10_000, 400_000, 5),
    "Задолженность по платежам за жилую площадь, коммунальные платежи, включая пени": (3_000, 80_000, 3),
    "Взыскание налогов и сборов, включая пени": (1_000, 50_000, 2),
    "Штраф как основное наказание по делу об административном правонарушении": (1_000, 5_000, 1),
    "Иные взыскания имущественного характера в пользу физических и юридических лиц": (5_000, 200_000, 1),
}


def _offset(days_ago: int) -> str:
    # Every generated charge date is in the past, so offsets are always "-Nd" with N >= 1.
    return f"-{days_ago}d"


def _add_years(day: date, years: int) -> date:
    # 29 February falls back to the 28th in years without it.
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def _translit(text: str) -> str:
    return text.lower().translate(_TRANSLIT)


def _pool(draw: Callable[[], str], size: int, keep: Callable[[str], bool] = lambda s: True) -> tuple[str, ...]:
    # dict.fromkeys de-duplicates in draw order: a set would order by hash, which changes between processes.
    return tuple(dict.fromkeys(v for v in (draw() for _ in range(size)) if keep(v)))


class _Pools:
    """Everything drawn from Faker, once: its providers are far too slow to call per person."""

    def __init__(self, seed: int) -> None:
        fake = Faker("ru_RU")
        fake.seed_instance(seed)
        self.first = {"M": _pool(fake.first_name_male, 600), "F": _pool(fake.first_name_female, 300)}
        self.middle = {"M": _pool(fake.middle_name_male, 400), "F": _pool(fake.middle_name_female, 400)}
        self.last = {"M": _pool(fake.last_name_male, 1500), "F": _pool(fake.last_name_female, 1500)}
        self.cities = _pool(fake.city, 3000, keep=lambda c: c.startswith("г. "))
        self.streets = _pool(fake.street_name, 1000)


class _Generator:
    """One person at a time from one random source; the sets only answer "taken?" and are never iterated."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.pools = _Pools(seed)
        self.taken: dict[str, set[str]] = {}

    # --- helpers ---------------------------------------------------------------------------------------------------

    def unique(self, kind: str, make: Callable[[], str], first: str | None = None) -> str:
        taken = self.taken.setdefault(kind, set())
        value = make() if first is None else first
        while value in taken:
            value = make()
        taken.add(value)
        return value

    def digits(self, count: int) -> str:
        return f"{self.rng.randrange(10**count):0{count}d}"

    def letters(self, count: int) -> str:
        return "".join(self.rng.choice(PLATE_LETTERS) for _ in range(count))

    def date_between(self, start: date, end: date) -> date:
        return start + timedelta(days=self.rng.randint(0, max((end - start).days, 0)))

    def pick(self, items: Sequence[T], weights: Sequence[int] | None = None) -> T:
        return self.rng.choices(items, weights)[0] if weights else self.rng.choice(items)

    def pick_weighted(self, table: dict[str, int]) -> str:
        return self.pick(tuple(table), tuple(table.values()))

    def name(self, gender: str) -> tuple[str, str, str]:
        pools = self.pools
        return self.pick(pools.last[gender]), self.pick(pools.first[gender]), self.pick(pools.middle[gender])

    # --- the person ------------------------------------------------------------------------------------------------

    def _not_story_phone(self) -> str:
        while True:
            digits = self.digits(9)
            if not digits.startswith("16000"):
                return digits

    def person(self) -> dict[str, Any]:
        rng = self.rng
        region = self.pick(_REGIONS, _REGION_WEIGHTS)
        gender = self.pick(("M", "F"))
        last, first, middle = self.name(gender)
        birth = self.date_between(DATA_EPOCH - timedelta(days=85 * 365), _add_years(DATA_EPOCH, -18))
        record: dict[str, Any] = {
            # 1 000 000 000 - 1 000 999 999 is kept for the story citizens, so both can be loaded together.
            "oid": int(self.unique("oid", lambda: str(rng.randint(1_001_000_000, 1_999_999_999)))),
            "level": self.pick(("confirmed", "standard", "simplified"), (80, 15, 5)),
            "locked": rng.random() < 0.01,
            "password": "".join(rng.choice(_PASSWORD_ALPHABET) for _ in range(12)),
            # +7916000xxxx is kept for the story citizens.
            "phone": self.unique("phone", lambda: "+79" + self._not_story_phone()),
            "email": self.email(first, last),
            "last_name": last,
            "first_name": first,
            "middle_name": middle,
            "gender": gender,
            "birth_date": birth.isoformat(),
            "birth_place": self.pick(self.pools.cities),
            "snils": self.unique("snils", lambda: make_snils(rng)),
            "inn": self.unique("inn", lambda: make_person_inn(rng, region.code)),
            "passport": self.passport(region, birth),
            "vehicles": [],
            "fines": [],
            "debts": [],
        }
        if rng.random() < 0.75:
            record["driving_licence"] = self.licence(region, birth)
            if rng.random() < 0.85:
                record["vehicles"] = [self.vehicle(region) for _ in range(self.pick((1, 2), (3, 1)))]
        if rng.random() < 0.6:
            record["fines"] = [self.fine(region, record) for _ in range(self.pick((1, 2, 3), (55, 30, 15)))]
        if rng.random() < 0.2:
            record["debts"] += self.tax_debts(region, has_vehicle=bool(record["vehicles"]))
        if rng.random() < 0.1:
            record["debts"] += [self.fssp_debt(region) for _ in range(self.pick((1, 2), (4, 1)))]
        return record

    def email(self, first: str, last: str) -> str:
        base, domain = f"{_translit(first)}.{_translit(last)}", self.pick(_MAIL_DOMAINS)
        return self.unique("email", lambda: f"{base}{self.rng.randint(1, 99999)}@{domain}", first=f"{base}@{domain}")

    def passport(self, region: _Region, birth: date) -> dict[str, str]:
        # A passport is issued at 14 and replaced at 20 and 45; the current one dates from the latest of these.
        age = max(years for years in (14, 20, 45) if _add_years(birth, years) < DATA_EPOCH)
        # Russian passports exist since 1997: an earlier milestone means a Soviet one swapped for it around 1998.
        start = max(_add_years(birth, age), date(1998, 1, 1))
        issued = min(start + timedelta(days=self.rng.randint(1, 60)), DATA_EPOCH - timedelta(days=1))
        issued_by = region.mvd if issued.year >= 2017 else region.ufms.format(district=self.pick(region.districts))
        series = region.okato + f"{issued.year % 100:02d}"  # region, then the year the blank was printed
        return {
            "series": series,
            "number": self.unique("passport", lambda: series + self.digits(6))[4:],
            "issue_date": issued.isoformat(),
            "issued_by": issued_by,
            "issue_id": f"{self.pick(region.offices)}-{self.rng.randint(1, 99):03d}",
        }

    def licence(self, region: _Region, birth: date) -> dict[str, str]:
        # A licence is valid for ten years and obtainable from 18, so the current one falls in that span.
        start = max(_add_years(birth, 18), _add_years(DATA_EPOCH, -10))
        issued = self.date_between(start, DATA_EPOCH - timedelta(days=1))
        series = region.code + self.digits(2)
        return {
            "series": series,
            "number": self.unique("licence", lambda: series + self.digits(6))[4:],
            "issue_date": issued.isoformat(),
        }

    def vehicle(self, region: _Region) -> dict[str, Any]:
        def plate() -> str:
            return f"{self.letters(1)}{self.rng.randint(1, 999):03d}{self.letters(2)}{self.pick(region.plates)}"

        sts_series = region.code + self.digits(2)
        return {
            "number_plate": self.unique("plate", plate),
            "model": self.pick(_CAR_MODELS),
            "sts": {"series": sts_series, "number": self.unique("sts", lambda: sts_series + self.digits(6))[4:]},
        }

    # --- charges ---------------------------------------------------------------------------------------------------

    def fine(self, home: _Region, person: dict[str, Any]) -> dict[str, Any]:
        rng = self.rng
        region = home if rng.random() < 0.9 else self.pick(_REGIONS)
        vehicles, licence = person["vehicles"], person.get("driving_licence")
        camera = bool(vehicles) and rng.random() < 0.75
        if camera:
            article = self.pick_weighted(_CAMERA_ARTICLES)
        else:
            article = self.pick_weighted(_PATROL_ARTICLES) if licence else _PEDESTRIAN_ARTICLE
        amount, description = _ARTICLES[article]
        # A mix of fines inside the discount window, after it, and long overdue ones.
        resolved_ago = rng.randint(*self.pick(((1, DISCOUNT_DAYS), (DISCOUNT_DAYS + 1, 70), (71, 400)), (4, 3, 3)))
        uin = self.unique("uin", lambda: make_uin(("188101" if camera else "188100") + region.code, rng))
        fine: dict[str, Any] = {
            "uin": uin,
            # A camera resolution is numbered by its УИН; a paper one by its blank (that format is unverified).
            "resolution_number": uin if camera else f"{region.code}{self.letters(2)}{self.digits(7)}",
            "resolution_date": _offset(resolved_ago),
            "article": article,
            "description": description,
            "amount": amount,
            # A camera's resolution follows the offence by a few days; an inspector's is written there and then.
            "offence": {
                "date": _offset(resolved_ago + (rng.randint(1, 5) if camera else 0)),
                "place": self.place(region),
            },
            "department": region.camera_department if camera else self.pick(region.patrol_departments),
            "payee": region.gibdd,
            "kbk": GIBDD_KBK,
            "oktmo": region.oktmo,
            "vehicle": self.pick(vehicles)["number_plate"] if vehicles and (camera or rng.random() < 0.8) else None,
            "licence": f"{licence['series']} {licence['number']}" if licence and not camera else None,
            "paid": self.fine_paid(amount, resolved_ago),
        }
        # Camera resolutions travel by post or to the portal; inspectors hand theirs over on the spot.
        if camera and resolved_ago > 1 and rng.random() < 0.7:
            fine["delivered_date"] = _offset(resolved_ago - rng.randint(1, min(7, resolved_ago - 1)))
        return fine

    def fine_paid(self, amount: int, resolved_ago: int) -> int:
        # Only fines past the discount window are marked paid: the record has no payment date, so a half paid inside
        # the window could not be told apart from a half paid late.
        if resolved_ago <= DISCOUNT_DAYS:
            return 0
        roll = self.rng.random()
        if roll < 0.10:
            return amount
        if roll < 0.13:
            return amount - amount // 2  # paid the discounted half too late: the other half is still owed
        return 0

    def place(self, region: _Region) -> str:
        if self.rng.random() < 0.3:
            return f"{self.pick(region.roads)}, {self.rng.randint(1, 120)} км"
        return f"{region.city}, {self.pick(self.pools.streets)}, д. {self.rng.randint(1, 150)}"

    def dates(self, issued_range: tuple[int, int], grace: tuple[int, int]) -> tuple[str, str]:
        issued_ago = self.rng.randint(*issued_range)
        due_ago = max(issued_ago - self.rng.randint(*grace), 1)
        return _offset(issued_ago), _offset(due_ago)

    def tax_debts(self, region: _Region, *, has_vehicle: bool) -> list[dict[str, Any]]:
        kinds = [kind for kind in _TAX_KINDS if has_vehicle or kind != "transport"]
        return [self.tax_debt(region, kind) for kind in self.rng.sample(kinds, k=self.pick((1, 2), (7, 3)))]

    def tax_debt(self, region: _Region, kind: str) -> dict[str, Any]:
        text, low, high = _TAX_KINDS[kind]
        period = str(DATA_EPOCH.year - self.pick((1, 2), (3, 1)))
        issued, due = self.dates((25, 400), (20, 60))
        return {
            "uin": self.unique("uin", lambda: make_uin("182", self.rng)),
            "type": "tax",
            "description": text.format(period=period),
            "amount": self.rng.randint(low, high) * 100,  # taxes are assessed in whole roubles
            "issued_date": issued,
            "due_date": due,
            "payee": "fns",
            "kbk": TAX_KBK,
            "oktmo": region.oktmo,
            "paid": 0,
            "tax": {"kind": kind, "period": period},
        }

    def fssp_debt(self, region: _Region) -> dict[str, Any]:
        subject = self.pick_weighted({name: weight for name, (_, _, weight) in _FSSP_SUBJECTS.items()})
        low, high, _ = _FSSP_SUBJECTS[subject]
        amount = self.rng.randint(low * 100, high * 100)
        issued, due = self.dates((10, 700), (5, 5))  # five days for voluntary payment (ФЗ-229 ст.30)
        code, department = self.pick(region.fssp_departments)
        year = DATA_EPOCH.year - self.rng.randint(0, 2)
        number = self.unique("proceeding", lambda: f"{self.rng.randint(1, 999999)}/{year % 100:02d}/{code}-ИП")
        last, first, middle = self.name(self.pick(("M", "F")))
        return {
            "uin": self.unique("uin", lambda: make_uin("322" + region.code, self.rng)),
            "type": "fssp",
            "description": subject,
            "amount": amount,
            "issued_date": issued,
            "due_date": due,
            "payee": region.fssp,
            "kbk": FSSP_KBK,
            "oktmo": region.oktmo,
            "paid": 0,
            "proceeding": {
                "number": number,
                "writ": self.writ(year),
                "bailiff": f"{last} {first[0]}. {middle[0]}.",
                "department": department,
                "fee": enforcement_fee(amount),
            },
        }

    def writ(self, year: int) -> str:
        day = self.date_between(date(year - 1, 1, 10), date(year - 1, 12, 20)).strftime("%d.%m.%Y")
        if self.rng.random() < 0.6:
            return f"Судебный приказ № 2-{self.rng.randint(100, 9999)}/{year - 1} от {day}"
        return f"Исполнительный лист ФС № 0{self.digits(8)} от {day}"


def generate_persons(seed: int, count: int, progress: Progress | None = None) -> Iterator[dict[str, Any]]:
    """`count` person records, the same for the same seed; `progress(done, total)` is called every 1000 persons."""
    if count < 0:
        raise ValueError(f"count must not be negative, got {count}")
    generator = _Generator(seed)
    for done in range(1, count + 1):
        yield generator.person()
        if progress is not None and (done % _PROGRESS_EVERY == 0 or done == count):
            progress(done, count)


def write_dataset(seed: int, count: int, out_dir: Path, progress: Progress | None = None) -> Path:
    """Write `out_dir/persons.jsonl`, byte-identical for the same seed, count and Faker version; returns its path."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / "persons.jsonl"
    partial = path.with_name(path.name + ".partial")
    # newline="\n" keeps the bytes the same on Windows; writing aside and renaming never leaves half a file behind.
    with partial.open("w", encoding="utf-8", newline="\n") as out:
        for person in generate_persons(seed, count, progress):
            out.write(json.dumps(person, ensure_ascii=False, sort_keys=True, separators=(",", ":")))
            out.write("\n")
    partial.replace(path)
    return path
