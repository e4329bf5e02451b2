"""Resident register benchmark: a 10,000-row ledger import, and resident lists and filters on a
100x street. Prints figures; asserts nothing about time."""

import datetime
import io
import random
import tempfile
import time

from tests.bench import common


def _ledger(rows: int, units: list, run: int) -> bytes:
    from openpyxl import Workbook

    from residents import excel
    from residents.identity import id_check_digit

    rnd = random.Random(11)
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet()
    sheet.append([c.header for c in excel.COLUMNS])
    for index in range(rows):
        household = index // 4  # four people a household, each household its own (unit, room)
        unit = units[household % len(units)]
        born = datetime.date(1930, 1, 1) + datetime.timedelta(days=rnd.randint(0, 30000))
        # Leading 9 (permanent-residence numbers): never clashes with the demo residents.
        body = f"9{run % 100:02d}{index // 1000:03d}{born:%Y%m%d}{index % 1000:03d}"
        number = body + id_check_digit(body)
        male = int(number[16]) % 2 == 1
        sheet.append(
            [
                unit.code,
                f"{household // len(units) + 1:02d}01",
                "自有住房",
                f"测试{index}",
                "户主" if index % 4 == 0 else "子女",
                number,
                "男" if male else "女",
                born.isoformat(),
                f"139{index:08d}",
                "户籍",
                "汉族",
                "群众",
                "独居" if index % 50 == 0 else "",
                "黄" if index % 20 == 0 else "",
                "",
            ]
        )
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def bench_import() -> None:
    from django.core.files.base import ContentFile

    from grid.choices import NodeLevel
    from grid.models import GridNode, User
    from residents import importer
    from residents.models import ImportJob

    community = GridNode.objects.filter(level=NodeLevel.COMMUNITY).order_by("-path").first()
    units = list(
        GridNode.objects.filter(path__startswith=community.path, level=NodeLevel.UNIT).order_by("path")
    )
    admin = User.objects.get(username="admin")
    content = _ledger(10_000, units, ImportJob.objects.count())
    size = len(content) // 1024
    print(f"\nLedger import: 10,000 rows into {community.name} ({len(units)} units), file {size} KiB")
    rows = []
    for label in ("first import (creates)", "same file again (updates)"):
        with tempfile.TemporaryDirectory():
            job = ImportJob.objects.create(
                file=ContentFile(content, name="bench.xlsx"),
                original_name="bench.xlsx",
                mode="all_or_nothing",
                scope_node=community,
                created_by=admin,
            )
            started = time.perf_counter()
            job = importer.run(job)
            elapsed = time.perf_counter() - started
        rows.append(
            (
                label,
                job.status,
                job.created_count,
                job.updated_count,
                f"{elapsed:.1f} s",
                f"{10_000 / elapsed:.0f} rows/s",
            )
        )
    common.report(rows, ("run", "status", "created", "updated", "time", "rate"))


def bench_lists() -> None:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from rest_framework.test import APIClient

    from grid.models import User
    from residents.models import Resident

    print(f"\nResident lists on the 100x street: {Resident.objects.count():,} residents")
    cases = [
        ("api list, page of 50", "/api/v1/residents/", {}),
        ("api filter age 80+", "/api/v1/residents/", {"age_band": "80+"}),
        ("api filter living alone", "/api/v1/residents/", {"tag": "living_alone"}),
        ("api filter colour red", "/api/v1/residents/", {"colour": "red"}),
        ("api search name", "/api/v1/residents/", {"q": "王"}),
        ("api search phone tail", "/api/v1/residents/", {"q": "5678"}),
        ("admin changelist", "/admin/residents/resident/", {}),
        (
            "admin filter 80+ and tag",
            "/admin/residents/resident/",
            {"age_band": "80+", "tag": "living_alone"},
        ),
        ("phone search", "/m/residents/", {"q": "王"}),
    ]
    rows = []
    for username in ("wys_leader", "bhxc_secretary", "bhxc_g1_a"):
        user = User.objects.get(username=username)
        for label, url, params in cases:
            client = APIClient() if url.startswith("/api/") else Client()
            client.force_login(user)
            if url == "/m/residents/" and not user.has_perm("residents.view_resident"):
                continue
            median, worst = common.timed(lambda c=client, u=url, p=params: c.get(u, p, HTTP_HOST="127.0.0.1"))
            with CaptureQueriesContext(connection) as queries:
                response = client.get(url, params, HTTP_HOST="127.0.0.1")
            rows.append(
                (
                    username,
                    label,
                    response.status_code,
                    f"{median:.0f} ms",
                    f"{worst:.0f} ms",
                    len(queries.captured_queries),
                )
            )
    common.report(rows, ("user", "request", "status", "median", "worst", "queries"))


def main() -> None:
    common.setup()
    common.ensure_street(100)
    bench_import()
    bench_lists()


if __name__ == "__main__":
    main()
