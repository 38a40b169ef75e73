"""ГОСТ Р 56042-2014 QR payloads and the payees of fixtures/payees.yaml."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from simulator.datagen import PAYEE_KEYS
from simulator.domain.identifiers import is_valid_inn
from simulator.domain.requisites import MANDATORY_KEYS, OPTIONAL_KEYS, Payee, charge_qr, parse_qr, qr_payload

PAYEES_FILE = Path(__file__).resolve().parents[2] / "fixtures" / "payees.yaml"

GIBDD_77 = Payee(
    name="УВД по ЦАО ГУ МВД России по г. Москве",
    inn="7706012716",
    kpp="770901011",
    account="03100643000000019500",
    bik="024501901",
    bank_name="ОПЕРАЦИОННЫЙ ДЕПАРТАМЕНТ БАНКА РОССИИ//МЕЖРЕГИОНАЛЬНОЕ ОПЕРАЦИОННОЕ УФК г. Москва",
    corr_account="40102810045370000002",
)
MANDATORY = {
    "Name": "УФК по г. Москве",
    "PersonalAcc": "03100643000000019500",
    "BankName": "ГУ Банка России по ЦФО",
    "BIC": "024501901",
    "CorrespAcc": "40102810045370000002",
}


def _fine_qr(**overrides) -> str:
    args = dict(
        amount=25000,
        purpose="Штраф по постановлению 18810177230000000017",
        kbk="18811601123010001140",
        oktmo="45000000",
        uin="18887717033050384868",
        payer_inn="500100732259",
        last_name="Иванов",
        first_name="Иван",
        middle_name="Иванович",
    )
    return charge_qr(GIBDD_77, **{**args, **overrides})


def test_a_payload_starts_with_the_utf8_header_and_the_five_mandatory_fields_in_order():
    payload = qr_payload([("Sum", "100"), *reversed(list(MANDATORY.items()))])
    assert payload.startswith("ST00012|Name=")
    keys = [item.split("=", 1)[0] for item in payload.split("|")[1:]]
    assert keys == [*MANDATORY_KEYS, "Sum"]


def test_optional_fields_keep_the_order_they_were_given_in():
    payload = qr_payload({**MANDATORY, "UIN": "18887717033050384868", "Sum": "100", "CBC": "18811601123010001140"})
    assert list(parse_qr(payload))[5:] == ["UIN", "Sum", "CBC"]


def test_a_charge_qr_round_trips_to_the_same_fields():
    fields = parse_qr(_fine_qr())
    assert fields == {
        "Name": GIBDD_77.name,
        "PersonalAcc": GIBDD_77.account,
        "BankName": GIBDD_77.bank_name,
        "BIC": GIBDD_77.bik,
        "CorrespAcc": GIBDD_77.corr_account,
        "Sum": "25000",
        "Purpose": "Штраф по постановлению 18810177230000000017",
        "PayeeINN": "7706012716",
        "KPP": "770901011",
        "CBC": "18811601123010001140",
        "OKTMO": "45000000",
        "UIN": "18887717033050384868",
        "PayerINN": "500100732259",
        "LastName": "Иванов",
        "FirstName": "Иван",
        "MiddleName": "Иванович",
    }


def test_qr_payload_of_parsed_fields_gives_back_the_same_payload():
    payload = _fine_qr()
    assert qr_payload(parse_qr(payload)) == payload


def test_a_payer_without_inn_or_patronymic_leaves_those_keys_out():
    fields = parse_qr(_fine_qr(payer_inn=None, middle_name=None))
    assert "PayerINN" not in fields and "MiddleName" not in fields


def test_every_key_is_latin():
    for key in MANDATORY_KEYS + OPTIONAL_KEYS:
        assert key.isascii() and key.isalpha(), key


def test_a_value_containing_the_separator_is_refused():
    with pytest.raises(ValueError, match="separator"):
        _fine_qr(purpose="Штраф | пени")


def test_a_key_outside_the_standard_is_refused_including_a_cyrillic_lookalike():
    with pytest.raises(ValueError):
        qr_payload({**MANDATORY, "Amount": "100"})
    with pytest.raises(ValueError):
        qr_payload({**MANDATORY, "СВС": "18811601123010001140"})  # Cyrillic С, В, С


def test_a_missing_or_empty_mandatory_field_is_refused():
    with pytest.raises(ValueError, match="BIC"):
        qr_payload({k: v for k, v in MANDATORY.items() if k != "BIC"})
    with pytest.raises(ValueError, match="Name"):
        qr_payload({**MANDATORY, "Name": ""})


def test_a_sum_must_be_whole_kopecks():
    with pytest.raises(ValueError):
        qr_payload({**MANDATORY, "Sum": "250.00"})
    with pytest.raises(ValueError):
        _fine_qr(amount=-1)


def test_a_charge_with_nothing_left_to_pay_gets_a_qr_without_a_sum():
    fields = parse_qr(_fine_qr(amount=0))
    assert "Sum" not in fields and fields["UIN"] == "18887717033050384868"


@pytest.mark.parametrize(
    "payload",
    [
        "",
        "ST00012",
        "ST00012|",
        "ST0002|Name=x",
        "ST00019|Name=a|PersonalAcc=b|BankName=c|BIC=d|CorrespAcc=e",
        "ST00012|PersonalAcc=b|Name=a|BankName=c|BIC=d|CorrespAcc=e",
        "ST00012|Name=a|PersonalAcc=b|BankName=c|BIC=d",
        "ST00012|Name=a|PersonalAcc=b|BankName=c|BIC=d|CorrespAcc=e|Sum",
        "ST00012|Name=a|PersonalAcc=b|BankName=c|BIC=d|CorrespAcc=e|Sum=1|Sum=2",
    ],
)
def test_a_malformed_payload_is_refused(payload):
    with pytest.raises(ValueError):
        parse_qr(payload)


def test_a_payload_with_another_separator_parses():
    fields = parse_qr("ST00012#Name=a|b#PersonalAcc=1#BankName=c#BIC=2#CorrespAcc=3#Sum=100")
    assert fields["Name"] == "a|b" and fields["Sum"] == "100"


def test_a_payee_with_a_bad_inn_is_refused_at_construction():
    with pytest.raises(ValueError, match="ИНН"):
        Payee(**{**GIBDD_77.__dict__, "inn": "7706012717"})
    with pytest.raises(ValueError):
        Payee(**{**GIBDD_77.__dict__, "bik": "02450190"})


def test_the_payees_fixture_has_every_payee_the_data_refers_to_and_each_one_is_valid():
    payees = yaml.safe_load(PAYEES_FILE.read_text(encoding="utf-8"))
    assert set(PAYEE_KEYS) <= set(payees)
    for key, fields in payees.items():
        payee = Payee(**fields)
        assert is_valid_inn(payee.inn), key
        assert parse_qr(_charge_for(payee))["PayeeINN"] == payee.inn


def test_the_moscow_traffic_police_payee_is_the_domain_reference_sample():
    payees = yaml.safe_load(PAYEES_FILE.read_text(encoding="utf-8"))
    assert Payee(**payees["gibdd_77"]) == GIBDD_77


def _charge_for(payee: Payee) -> str:
    return charge_qr(payee, amount=100, purpose="test", kbk="18201061201010000510", oktmo="45000000",
                     uin="18887717033050384868", payer_inn=None, last_name="Петрова", first_name="Анна",
                     middle_name=None)  # fmt: skip
