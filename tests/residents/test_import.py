import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from openpyxl import Workbook, load_workbook

from residents import excel, identity
from residents.choices import ImportStatus
from residents.models import CareTag, Household, ImportJob, Resident
from tests.residents.factories import make_id

pytestmark = pytest.mark.django_db


def _xlsx(rows, headers=None) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(headers or [c.header for c in excel.COLUMNS])
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _row(code, room, name, relation, number, **extra):
    values = {c.key: "" for c in excel.COLUMNS}
    values.update(node_code=code, room=room, name=name, relation=relation, id_number=number, **extra)
    return [values[c.key] for c in excel.COLUMNS]


def _upload(client, content: bytes, node, mode="all_or_nothing"):
    return client.post(
        reverse("residents:import"),
        {"node": node.pk, "mode": mode, "file": SimpleUploadedFile("台账.xlsx", content)},
    )


@pytest.fixture
def secretary_client(register, client):
    client.force_login(register.demo.user("bhxc_secretary"))
    return client


def _good_rows(register):
    code = register.unit_a.code
    return [
        _row(
            code,
            "301",
            "刘德华",
            "户主",
            make_id(),
            phone="13700001111",
            care_tags="独居、残疾(二级)",
            colour="红",
        ),
        _row(
            code, "301", "刘小华", "子女", make_id(male=False, born=__import__("datetime").date(1980, 2, 2))
        ),
        _row(code, "302", "陈光", "户主", make_id(), housing_kind="租住"),
    ]


def test_template_has_the_headers(secretary_client):
    response = secretary_client.get(reverse("residents:import-template"))
    header = next(load_workbook(io.BytesIO(response.content)).active.iter_rows(values_only=True))
    assert list(header) == [c.header for c in excel.COLUMNS]


def test_a_good_ledger_is_imported_with_households_heads_tags_and_colours(register, secretary_client):
    response = _upload(secretary_client, _xlsx(_good_rows(register)), register.demo.beihai)
    job = ImportJob.objects.get()
    assert response.status_code == 302 and response.url == reverse("residents:import-status", args=[job.pk])
    assert job.status == ImportStatus.DONE, job.errors
    assert (job.created_count, job.updated_count, job.total_rows, job.progress_percent) == (3, 0, 3, 100)
    household = Household.objects.get(node=register.unit_a, room="301")
    assert household.head.name == "刘德华" and household.colour == "red"
    assert household.members.count() == 2
    assert set(CareTag.objects.filter(resident__name="刘德华").values_list("kind", "grade")) == {
        ("living_alone", None),
        ("disabled", 2),
    }
    assert Household.objects.get(node=register.unit_a, room="302").housing_kind == "tenant"


def test_reimporting_the_same_file_creates_no_duplicates(register, secretary_client):
    content = _xlsx(_good_rows(register))
    _upload(secretary_client, content, register.demo.beihai)
    residents, households, tags = Resident.objects.count(), Household.objects.count(), CareTag.objects.count()
    _upload(secretary_client, content, register.demo.beihai)
    second = ImportJob.objects.order_by("-id").first()
    assert (second.status, second.created_count, second.updated_count) == (ImportStatus.DONE, 0, 3)
    assert (Resident.objects.count(), Household.objects.count(), CareTag.objects.count()) == (
        residents,
        households,
        tags,
    )


def test_any_bad_row_writes_nothing_and_each_is_reported_in_chinese(register, secretary_client):
    good = _good_rows(register)
    number = make_id()
    bad_check = number[:-1] + ("0" if number[-1] != "0" else "1")  # one number, its check digit wrong
    rows = [
        good[0],
        _row(register.unit_a.code, "303", "错校验", "户主", bad_check),
        _row("NO-SUCH-CODE", "1", "无节点", "户主", make_id()),
        _row(register.unit_b.code.replace("G02", "G02"), "1", "", "户主", make_id()),
        _row(register.unit_a.code, "304", "脱敏号", "户主", "3701**********1234"),
        _row(register.unit_a.code, "305", "坏电话", "户主", make_id(), phone="12345"),
        _row(register.unit_a.code, "306", "坏标签", "户主", make_id(), care_tags="外星人"),
        _row(register.unit_a.code, "301", "重复", "子女", good[0][5]),
    ]
    before = (Resident.objects.count(), Household.objects.count())
    _upload(secretary_client, _xlsx(rows), register.demo.beihai)
    job = ImportJob.objects.get()
    assert job.status == ImportStatus.REJECTED
    assert (Resident.objects.count(), Household.objects.count()) == before
    by_row = {}
    for error in job.errors:
        by_row.setdefault(error["row"], []).append((error["column"], error["message"]))
    assert sorted(by_row) == [3, 4, 5, 6, 7, 8, 9]
    assert "校验位" in by_row[3][0][1]
    assert "NO-SUCH-CODE" in by_row[4][0][1]
    assert ("姓名", "此列必填。") in by_row[5]
    assert "脱敏" in by_row[6][0][1]
    assert by_row[7][0][0] == "联系电话"
    assert "外星人" in by_row[8][0][1]
    assert "第2行" in by_row[9][0][1]
    page = secretary_client.get(reverse("residents:import-status", args=[job.pk])).content.decode()
    assert "校验位" in page and "未写入任何数据" in page


def test_valid_rows_mode_writes_only_the_good_rows(register, secretary_client):
    rows = [*_good_rows(register), _row(register.unit_a.code, "309", "坏", "户主", "123")]
    _upload(secretary_client, _xlsx(rows), register.demo.beihai, mode="valid_rows")
    job = ImportJob.objects.get()
    assert job.status == ImportStatus.DONE and job.created_count == 3
    assert [e["row"] for e in job.errors] == [5]
    assert not Resident.objects.filter(name="坏").exists()


def test_rows_outside_the_importers_area_are_refused(register, client):
    client.force_login(register.demo.user("c002_secretary"))
    _upload(client, _xlsx(_good_rows(register)), register.demo.other_community)
    job = ImportJob.objects.get()
    assert job.status == ImportStatus.REJECTED
    assert {e["message"] for e in job.errors} == {"该楼栋或单元不在您的管辖范围内。"}


def test_a_file_that_is_not_a_ledger_is_refused_with_a_reason(register, secretary_client):
    response = _upload(secretary_client, b"not a spreadsheet", register.demo.beihai)
    assert response.status_code == 200
    assert "xlsx" in str(response.context["form"].errors["file"])
    _upload(secretary_client, _xlsx([["x"]], headers=["姓名"]), register.demo.beihai)
    job = ImportJob.objects.get()
    assert job.status == ImportStatus.REJECTED and "缺少列" in job.message
    assert not ImportJob.objects.exclude(pk=job.pk).exists()


def test_status_endpoint_reports_progress(register, secretary_client):
    _upload(secretary_client, _xlsx(_good_rows(register)), register.demo.beihai)
    job = ImportJob.objects.get()
    status = secretary_client.get(reverse("residents:import-status-json", args=[job.pk])).json()
    assert status["finished"] is True and status["percent"] == 100 and status["total_rows"] == 3


def _stored_ledgers() -> set[str]:
    import os

    from django.conf import settings

    root = os.path.join(settings.MEDIA_ROOT, "imports")
    return {os.path.join(folder, name) for folder, _dirs, names in os.walk(root) for name in names}


def test_imported_id_numbers_are_protected(register, secretary_client):
    rows = _good_rows(register)
    before = _stored_ledgers()
    _upload(secretary_client, _xlsx(rows), register.demo.beihai)
    resident = Resident.objects.get(name="刘德华")
    assert identity.decrypt(resident.id_number_encrypted) == rows[0][5]
    assert resident.id_number_masked == identity.mask_id_number(rows[0][5])
    # The uploaded ledger, with its whole numbers, is not kept once read.
    job = ImportJob.objects.get()
    assert not job.file and job.original_name == "台账.xlsx"
    assert _stored_ledgers() <= before


def test_grid_worker_cannot_import(register, client):
    client.force_login(register.demo.user("bhxc_g1_a"))
    assert client.get(reverse("residents:import")).status_code == 403


def test_a_person_registered_in_another_community_is_not_taken_over(register, secretary_client):
    far_number = identity.decrypt(register.far.id_number_encrypted)  # 孙五, kept by another community
    rows = [*_good_rows(register), _row(register.unit_a.code, "909", "冒名", "户主", far_number)]
    _upload(secretary_client, _xlsx(rows), register.demo.beihai, mode="valid_rows")
    job = ImportJob.objects.get()
    assert job.status == ImportStatus.DONE and job.created_count == 3 and job.updated_count == 0
    assert [(e["row"], e["column"]) for e in job.errors] == [(5, "身份证号")]
    assert "孙五" not in str(job.errors) and register.demo.other_community.name not in str(job.errors)
    register.far.refresh_from_db()
    assert register.far.name == "孙五" and register.far.household_id == register.home_c.pk


def test_over_long_values_are_row_errors_not_a_failure(register, secretary_client):
    rows = [_row(register.unit_a.code, "1" * 25, "张" * 60, "户主", make_id(), ethnicity="汉" * 30)]
    answer = _upload(secretary_client, _xlsx(rows), register.demo.beihai)
    assert answer.status_code in (200, 302)
    job = ImportJob.objects.get()
    assert job.status == ImportStatus.REJECTED and job.finished_at is not None
    assert {e["column"] for e in job.errors} == {"房号", "姓名", "民族"}
    assert not Resident.objects.filter(household__room__startswith="111").exists()


def test_ledger_dates_and_full_width_rooms_as_offices_type_them(register, secretary_client):
    import datetime

    from residents.importer import parse_date

    assert (
        parse_date("1950/1/5")
        == parse_date("1950年1月5日")
        == parse_date("18268")
        == datetime.date(1950, 1, 5)
    )
    assert parse_date("1950.01.05") == parse_date("１９５０-１-５") == datetime.date(1950, 1, 5)
    assert parse_date("1950-02-30") is None and parse_date("五零年") is None
    born = datetime.date(1950, 1, 5)
    rows = [_row(register.unit_a.code, "１０１", "周全", "其他", make_id(born), birth_date="1950/1/5")]
    _upload(secretary_client, _xlsx(rows), register.demo.beihai)
    assert ImportJob.objects.get().status == ImportStatus.DONE
    # Room １０１ is register.home_a's room 101, not a second household.
    assert Household.objects.filter(node=register.unit_a, room__in=["101", "１０１"]).count() == 1
    assert Resident.objects.get(name="周全").household_id == register.home_a.pk
