import datetime

import pytest
from django.core.exceptions import ValidationError
from django.test import override_settings
from django.utils import translation

from residents import identity
from tests.residents.factories import make_id


def _with_check(body: str) -> str:
    return body + identity.id_check_digit(body)


@pytest.mark.parametrize(
    "number",
    [
        "11010519491231002X",  # the GB 11643 example, check digit X
        _with_check("37010219900101123"),  # mainland
        _with_check("81000019900101123"),  # Hong Kong residence permit
        _with_check("82000019900101123"),  # Macau residence permit
        _with_check("83000019900101123"),  # Taiwan residence permit
        _with_check("93310019900101123"),  # new foreigners' permanent residence number
    ],
)
def test_valid_numbers_are_accepted_whatever_the_region(number):
    assert identity.validate_id_number(number.lower()) == number


@pytest.mark.parametrize(
    ("number", "code"),
    [
        ("110105194912310021", "id_checksum"),
        ("11010519491231002", "id_length"),
        ("1101051949123100211", "id_length"),
        ("110105491231002", "id_old_15"),  # a first-generation card: said so, not just "too short"
        ("11010519491331002X", "id_birth_date"),  # month 13
        ("11010519490230002X", "id_birth_date"),  # 30 February
        (_with_check("11010530000101002"), "id_birth_date"),  # born in the future
        ("1101051949123100AX", "id_format"),
    ],
)
def test_invalid_numbers_are_refused_with_a_reason(number, code):
    with pytest.raises(ValidationError) as error:
        identity.validate_id_number(number, today=datetime.date(2026, 11, 21))
    assert error.value.code == code


def test_reasons_are_in_chinese():
    with translation.override("zh-hans"), pytest.raises(ValidationError) as error:
        identity.validate_id_number("110105194912310021")
    assert "校验位" in error.value.messages[0]


def test_masking():
    assert identity.mask_id_number("370102199001011231") == "3701**********1231"
    assert identity.mask_phone("13912345678") == "139****5678"
    assert identity.mask_phone("+86 139 1234 5678") == "139****5678"
    assert identity.mask_phone("0531-88776655") == "0531-****6655"
    assert identity.mask_phone("") == ""


def test_encryption_round_trip_and_keyed_hash():
    number = make_id()
    token = identity.encrypt(number)
    assert number not in token
    assert identity.decrypt(token) == number
    assert identity.lookup_hash(number) == identity.lookup_hash(number)
    assert identity.lookup_hash(number) != identity.lookup_hash(make_id())


def test_old_keys_still_decrypt_after_rotation():
    from cryptography.fernet import Fernet

    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    with override_settings(PII_ENCRYPTION_KEYS=[old]):
        token = identity.encrypt("370102199001011231")
    with override_settings(PII_ENCRYPTION_KEYS=[new, old]):
        assert identity.decrypt(token) == "370102199001011231"
    with override_settings(PII_ENCRYPTION_KEYS=[new]), pytest.raises(ValueError):
        identity.decrypt(token)


def test_hash_depends_on_the_key():
    number = make_id()
    with override_settings(PII_HASH_KEY="key-one"):
        first = identity.lookup_hash(number)
    with override_settings(PII_HASH_KEY="key-two"):
        second = identity.lookup_hash(number)
    assert first != second
