import datetime

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from residents import identity, services
from residents.choices import CareTagKind, Colour, ResidentStatus
from residents.models import CareTag, ColourMark, Household, Resident
from tests.residents.factories import make_household, make_id, make_resident

pytestmark = pytest.mark.django_db


def test_birth_date_and_gender_come_from_the_id_number(register):
    number = make_id(datetime.date(1985, 7, 9), male=False)
    resident = services.resident_create(
        household=register.home_a, name="周敏", relation="spouse", id_number=number
    )
    assert resident.birth_date == datetime.date(1985, 7, 9)
    assert resident.gender == "female"
    assert resident.id_number_masked == number[:4] + "*" * 10 + number[-4:]


def test_id_number_is_stored_encrypted_with_a_lookup_hash(register):
    number = identity.decrypt(register.elder.id_number_encrypted)
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM residents_resident WHERE id = %s", [register.elder.pk])
        raw_row = " ".join(str(value) for value in cursor.fetchone())
    assert number not in raw_row
    assert Resident.objects.get(id_number_hash=identity.lookup_hash(number)) == register.elder


def test_mismatched_birth_date_or_gender_is_refused(register):
    number = make_id(datetime.date(1985, 7, 9), male=False)
    with pytest.raises(ValidationError) as error:
        services.resident_create(
            household=register.home_a,
            name="x",
            relation="child",
            id_number=number,
            birth_date=datetime.date(1985, 7, 10),
            gender="male",
        )
    assert {"birth_date", "gender"} <= set(error.value.message_dict)


def test_the_same_person_cannot_be_registered_twice(register):
    number = identity.decrypt(register.elder.id_number_encrypted)
    count = Resident.objects.count()
    with pytest.raises(ValidationError) as error:
        services.resident_create(household=register.home_b, name="王秀兰", relation="head", id_number=number)
    # Said without naming the person or the place, which may lie outside the caller's area.
    assert error.value.message_dict["id_number"] == ["该身份证号已登记；可按此号码搜索找到该记录。"]
    assert Resident.objects.count() == count


def test_households_hang_off_buildings_or_units_only(register):
    with pytest.raises(ValidationError) as error:
        make_household(register.demo.grid_a, "1")
    assert "node" in error.value.message_dict
    with pytest.raises(ValidationError):
        make_household(register.unit_a, "101")  # the room is taken


def test_head_is_set_and_moving_out_keeps_the_record(register):
    household = Household.objects.get(pk=register.home_a.pk)
    assert household.head == register.elder
    services.resident_set_status(resident=register.elder, status=ResidentStatus.MOVED_OUT)
    elder = Resident.objects.get(pk=register.elder.pk)
    assert elder.status == ResidentStatus.MOVED_OUT and elder.status_changed_on == datetime.date.today()
    assert Household.objects.get(pk=household.pk).head is None
    assert not CareTag.objects.filter(resident=elder, until__isnull=True).exists()
    assert CareTag.objects.filter(resident=elder).count() == 2


def test_colour_changes_are_recorded_with_who_and_why(register):
    worker = register.demo.user("bhxc_g1_a")
    services.colour_set(household=register.home_a, colour=Colour.RED, reason="独居高龄", actor=worker)
    services.colour_set(household=register.home_a, colour=Colour.YELLOW, reason="子女回迁同住", actor=worker)
    assert Household.objects.get(pk=register.home_a.pk).colour == Colour.YELLOW
    marks = list(ColourMark.objects.filter(household=register.home_a).order_by("set_at", "id"))
    assert [(m.previous, m.colour, m.reason, m.set_by) for m in marks] == [
        ("", Colour.RED, "独居高龄", worker),
        (Colour.RED, Colour.YELLOW, "子女回迁同住", worker),
    ]
    with pytest.raises(ValidationError):
        services.colour_set(household=register.home_a, colour=Colour.BLUE, reason=" ", actor=worker)


def test_care_tags_are_dated_one_open_per_kind_and_only_disability_has_a_grade(register):
    with pytest.raises(ValidationError):
        services.care_tag_add(resident=register.elder, kind=CareTagKind.LIVING_ALONE)
    with pytest.raises(ValidationError):
        services.care_tag_add(resident=register.young, kind=CareTagKind.VETERAN, grade=2)
    tag = CareTag.objects.get(resident=register.elder, kind=CareTagKind.LIVING_ALONE)
    services.care_tag_update(tag=tag, until=datetime.date.today())
    services.care_tag_add(resident=register.elder, kind=CareTagKind.LIVING_ALONE)
    assert CareTag.objects.filter(resident=register.elder, kind=CareTagKind.LIVING_ALONE).count() == 2


def test_phone_is_validated(register):
    with pytest.raises(ValidationError) as error:
        make_resident(
            register.home_a2, "钱七", relation="child", born=datetime.date(2015, 1, 1), phone="12345"
        )
    assert "phone" in error.value.message_dict
