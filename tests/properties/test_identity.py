"""GB 11643 ID numbers: every well-formed number passes and says who it is; every single-digit
slip and every swap of two neighbouring digits is caught; no input crashes the validator."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from hypothesis import example, given
from hypothesis import strategies as st

from grid.validators import normalize_phone, validate_phone
from residents.identity import (
    id_birth_date,
    id_check_digit,
    id_gender,
    mask_id_number,
    normalize_id_number,
    validate_id_number,
)

TODAY = datetime.date(2026, 11, 21)
regions = st.from_regex(r"[1-9][0-9]{5}", fullmatch=True)
births = st.dates(min_value=datetime.date(1890, 1, 1), max_value=TODAY)
sequences = st.integers(min_value=0, max_value=999)


def _number(region: str, born: datetime.date, sequence: int) -> str:
    first17 = f"{region}{born:%Y%m%d}{sequence:03d}"
    return first17 + id_check_digit(first17)


@given(regions, births, sequences)
def test_a_well_formed_number_passes_and_tells_the_birth_date_and_gender(region, born, sequence):
    number = _number(region, born, sequence)
    assert validate_id_number(number, today=TODAY) == number
    assert id_birth_date(number) == born
    assert id_gender(number) == ("male" if sequence % 2 else "female")
    # spaces and a lower-case x are how people type it
    typed = " ".join([number[:6], number[6:14], number[14:].lower()])
    assert validate_id_number(typed, today=TODAY) == number


@given(regions, births, sequences, st.integers(min_value=0, max_value=17), st.integers(1, 10))
def test_any_single_character_slip_is_refused(region, born, sequence, position, shift):
    number = _number(region, born, sequence)
    alphabet = "0123456789X" if position == 17 else "0123456789"
    wrong = alphabet[(alphabet.index(number[position]) + shift) % len(alphabet)]
    if wrong == number[position]:
        return
    slipped = number[:position] + wrong + number[position + 1 :]
    with pytest.raises(ValidationError):
        validate_id_number(slipped, today=TODAY)


@given(regions, births, sequences, st.integers(min_value=0, max_value=16))
def test_swapping_two_neighbouring_digits_is_refused(region, born, sequence, position):
    number = _number(region, born, sequence)
    if number[position] == number[position + 1] or number[position + 1] == "X":
        return
    swapped = number[:position] + number[position + 1] + number[position] + number[position + 2 :]
    with pytest.raises(ValidationError):
        validate_id_number(swapped, today=TODAY)


@given(st.text(max_size=40))
@example("11010519491231002X\x00")
@example("１１０１０５１９４９１２３１００２Ｘ")  # full-width digits, as some input methods type them
@example("110105194902300021")  # 30 February
def test_no_input_crashes_the_validator(text):
    try:
        number = validate_id_number(text, today=TODAY)
    except ValidationError as error:
        assert error.messages and all(message for message in error.messages)
    else:
        assert len(number) == 18 and number == normalize_id_number(number)


@given(regions, births, sequences)
def test_other_scripts_digits_are_refused_and_full_width_ones_read_as_ascii(region, born, sequence):
    """Python's \\d matches any script's digits: the validator once took Arabic-Indic digits and
    stored them as they came."""
    number = _number(region, born, sequence)
    full_width = "".join(chr(ord(c) + 0xFEE0) for c in number)
    assert validate_id_number(full_width, today=TODAY) == number
    arabic_indic = "".join(chr(0x0660 + int(c)) if c.isdigit() else c for c in number)
    with pytest.raises(ValidationError):
        validate_id_number(arabic_indic, today=TODAY)


@given(st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True))
def test_a_mobile_number_passes_in_any_common_typing_and_is_stored_one_way(mobile):
    for typed in (
        mobile,
        f"+86 {mobile[:3]} {mobile[3:7]} {mobile[7:]}",
        "".join(chr(ord(c) + 0xFEE0) for c in mobile),
    ):
        validate_phone(typed)
        assert normalize_phone(typed) == mobile
    with pytest.raises(ValidationError):
        validate_phone("".join(chr(0x0660 + int(c)) for c in mobile))


@given(st.text(max_size=30))
def test_no_input_crashes_the_phone_validator(text):
    try:
        validate_phone(text)
    except ValidationError:
        return
    assert normalize_phone(text).replace("-", "").isascii()


@given(regions, births, sequences)
def test_the_masked_number_shows_only_the_first_and_last_four(region, born, sequence):
    number = _number(region, born, sequence)
    masked = mask_id_number(number)
    assert masked[:4] == number[:4] and masked[-4:] == number[-4:]
    assert set(masked[4:-4]) == {"*"} and len(masked) == 18


@given(st.text(max_size=30))
@example("+86 １３８ ００１３ ８０００")
@example("０５３１－８８８８８８８８")
def test_every_phone_field_stores_what_it_accepts_as_ascii_digits(text):
    from demands.models import Ticket
    from grid.models import User
    from residents.models import Resident

    for model, name in ((User, "phone"), (Resident, "phone"), (Ticket, "reporter_phone")):
        field = model._meta.get_field(name)
        try:
            field.run_validators(field.to_python(text))
        except ValidationError:
            continue
        stored = field.to_python(text)
        assert stored == "" or (stored.isascii() and stored.replace("-", "").isdigit()), stored
        assert field.to_python(stored) == stored
