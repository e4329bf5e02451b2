"""scripts/backup and scripts/restore against the real PostgreSQL: the demo street backed up,
restored into a fresh database and compared with the source row by row, and the refusals that
keep a restore safe (non-empty target, altered dump, unreachable database)."""

import io
import os
import shutil
import subprocess
from pathlib import Path
from urllib.parse import quote

import psycopg
import pytest
from django.apps import apps
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from PIL import Image
from psycopg import sql

from demands import services as demand_services
from demands.choices import TicketSource
from demands.models import Claim, Demand, Ticket, TicketCategory, TicketPhoto
from demands.photos import clean_photo
from grid.demo import EXTRA_BUILDERS, DemoBuilder
from residents import identity
from residents.models import Household, Resident
from services.models import PointsEntry, PointsTransaction, Visit
from tests.residents.factories import make_id, make_resident

ROOT = Path(__file__).resolve().parents[2]
BACKUP = ROOT / "scripts" / "backup"
RESTORE = ROOT / "scripts" / "restore"


def connect(name: str, **kwargs) -> psycopg.Connection:
    """A plain connection to database `name` on the test database's server."""
    settings = connection.settings_dict
    return psycopg.connect(
        dbname=name,
        user=settings["USER"],
        password=settings["PASSWORD"],
        host=settings["HOST"],
        port=settings["PORT"],
        **kwargs,
    )


def database_url(name: str) -> str:
    settings = connection.settings_dict
    password = f":{quote(settings['PASSWORD'], safe='')}" if settings["PASSWORD"] else ""
    port = f":{settings['PORT']}" if settings["PORT"] else ""
    host = quote(settings["HOST"], safe="")
    return f"postgres://{quote(settings['USER'], safe='')}{password}@{host}{port}/{quote(name, safe='')}"


def run(script: Path, *args) -> subprocess.CompletedProcess:
    """Run a script with only the arguments given: no database or media root from the environment."""
    env = {
        k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "MEDIA_ROOT", "DJANGO_MEDIA_ROOT"}
    }
    return subprocess.run(
        [script, *map(str, args)], capture_output=True, text=True, env=env, timeout=120, check=False
    )


def database_exists(name: str) -> bool:
    with connect("postgres") as maintenance:
        return (
            maintenance.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone() is not None
        )


@pytest.fixture
def target():
    """The name of a database to restore into, absent before the test and dropped after it."""
    name = f"{connection.settings_dict['NAME']}_restore"

    def drop():
        with connect("postgres", autocommit=True) as maintenance:
            maintenance.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )

    drop()
    yield name
    drop()


@pytest.fixture(scope="module")
def plain_backup(django_db_setup, tmp_path_factory) -> Path:
    """A backup of the freshly migrated test database (tables, no demo data): enough to restore."""
    directory = tmp_path_factory.mktemp("plain") / "backup"
    result = run(BACKUP, "--database-url", database_url(connection.settings_dict["NAME"]), directory)
    assert result.returncode == 0, result.stderr
    return directory


def tables() -> dict[str, str]:
    """Every model's table (many-to-many tables included) → its primary key column."""
    return {
        model._meta.db_table: model._meta.pk.column
        for model in apps.get_models(include_auto_created=True)
        if model._meta.managed and not model._meta.proxy
    }


def contents(db: psycopg.Connection, table: str, pk: str) -> dict:
    """Primary key → md5 of the whole row, for every row of the table."""
    query = sql.SQL("SELECT {pk}, md5(t::text) FROM {table} t").format(
        pk=sql.Identifier(pk), table=sql.Identifier(table)
    )
    return dict(db.execute(query).fetchall())


def sequences(db: psycopg.Connection) -> dict:
    """Where each sequence stands, so that new rows in the restored database get fresh keys."""
    return dict(db.execute("SELECT schemaname || '.' || sequencename, last_value FROM pg_sequences"))


def png() -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (16, 12), "red").save(buffer, format="PNG")
    return SimpleUploadedFile("photo.png", buffer.getvalue(), content_type="image/png")


def files(root: Path) -> dict[str, bytes]:
    return {str(path.relative_to(root)): path.read_bytes() for path in root.rglob("*") if path.is_file()}


@pytest.mark.django_db(transaction=True)  # committed, so that pg_dump sees the rows
def test_a_restored_backup_has_every_row_file_and_readable_id_number(settings, tmp_path, target):
    settings.MEDIA_ROOT = tmp_path / "media"
    DemoBuilder().build()
    for builder in EXTRA_BUILDERS:  # residents, tickets, demands and claims, events, visits, points
        builder()
    number = make_id(region="110101")  # a region the demo does not use
    resident = make_resident(Household.objects.order_by("pk").first(), name="备份测试", id_number=number)
    ticket = Ticket.objects.order_by("pk").first()
    demand_services.ticket_create(
        category=TicketCategory.objects.order_by("pk").first(),
        node=ticket.node,
        source=TicketSource.STAFF,
        description="楼道灯不亮",
        photos=[clean_photo(png())],
    )
    for model in (Resident, Ticket, TicketPhoto, Demand, Claim, Visit, PointsTransaction, PointsEntry):
        assert model.objects.exists(), f"the demo made no {model.__name__}: the test would prove little"

    source = connection.settings_dict["NAME"]
    backup = tmp_path / "backup"
    result = run(BACKUP, "--database-url", database_url(source), "--media-root", tmp_path / "media", backup)
    assert result.returncode == 0, result.stderr
    assert sorted(path.name for path in backup.iterdir()) == ["database.dump", "manifest.txt", "media.tar.gz"]

    restored_media = tmp_path / "restored-media"
    result = run(
        RESTORE, "--database-url", database_url(target), "--media-root", restored_media, "--create", backup
    )
    assert result.returncode == 0, result.stderr

    differences = []
    with connect(source) as before, connect(target) as after:
        for table, pk in sorted(tables().items()):
            expected, actual = contents(before, table, pk), contents(after, table, pk)
            if len(expected) != len(actual):
                differences.append(f"{table}: {len(expected)} rows, restored {len(actual)}")
            elif expected.keys() != actual.keys():
                differences.append(
                    f"{table}: primary keys differ, e.g. {sorted(expected.keys() ^ actual.keys())[:5]}"
                )
            elif expected != actual:
                differences.append(f"{table}: {sum(expected[k] != actual[k] for k in expected)} rows differ")
        assert not differences, "\n".join(differences)
        assert sequences(after) == sequences(before)
        encrypted, lookup = after.execute(
            "SELECT id_number_encrypted, id_number_hash FROM residents_resident WHERE id = %s", [resident.pk]
        ).fetchone()
    assert encrypted != number
    assert identity.decrypt(encrypted) == number
    assert lookup == identity.lookup_hash(number)
    assert files(restored_media) == files(tmp_path / "media")
    assert any(name.startswith("tickets/") for name in files(restored_media))


def test_restore_refuses_a_database_with_tables_unless_forced(plain_backup, target):
    url = database_url(target)
    assert run(RESTORE, "--database-url", url, "--create", plain_backup).returncode == 0

    refused = run(RESTORE, "--database-url", url, plain_backup)
    assert refused.returncode != 0
    assert "--force" in refused.stderr

    forced = run(RESTORE, "--database-url", url, "--force", plain_backup)
    assert forced.returncode == 0, forced.stderr


def test_restore_refuses_an_altered_dump_before_touching_anything(plain_backup, target, tmp_path):
    altered = tmp_path / "altered"
    shutil.copytree(plain_backup, altered)
    dump = altered / "database.dump"
    content = bytearray(dump.read_bytes())
    content[len(content) // 2] ^= 0xFF
    dump.write_bytes(content)

    result = run(RESTORE, "--database-url", database_url(target), "--create", altered)
    assert result.returncode != 0
    assert "checksum" in result.stderr
    assert not database_exists(target)


def test_a_failed_backup_leaves_no_backup_directory(tmp_path):
    result = run(BACKUP, "--database-url", "postgres://postgres@127.0.0.1:1/unreachable", tmp_path / "backup")
    assert result.returncode != 0
    assert "pg_dump failed" in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_a_forced_restore_replaces_a_partitioned_metric_store_or_leaves_the_database_as_it_was(
    plain_backup, target, tmp_path
):
    """pg_restore --clean cannot drop what a partition inherits from the metric store: a forced
    restore drops the store whole first, in the same transaction as the rest."""
    url = database_url(target)
    assert run(RESTORE, "--database-url", url, "--create", plain_backup).returncode == 0
    cell = (
        "INSERT INTO grid_metricvalue (node_id, metric, period_kind, period_start, dimension, value, "
        "computed_at) VALUES (1, 'restored', 'day', %s, '', 1, now())"
    )
    with connect(target, autocommit=True) as db:
        db.execute(
            "CREATE TABLE grid_metricvalue_restored PARTITION OF grid_metricvalue FOR VALUES IN ('restored')"
        )
        db.execute(cell, ["2026-01-01"])
    backup = tmp_path / "backup"
    assert run(BACKUP, "--database-url", url, backup).returncode == 0
    with connect(target, autocommit=True) as db:
        db.execute(cell, ["2026-01-02"])
        # something the backup does not know of, which keeps pg_restore from dropping a table
        db.execute("CREATE VIEW nodes_in_use AS SELECT id FROM grid_gridnode")

    failed = run(RESTORE, "--database-url", url, "--force", backup)
    assert failed.returncode != 0
    assert "left as it was" in failed.stderr
    with connect(target) as db:
        assert db.execute("SELECT count(*) FROM grid_metricvalue_restored").fetchone()[0] == 2
        assert db.execute("SELECT to_regclass('nodes_in_use') IS NOT NULL").fetchone()[0]

    with connect(target, autocommit=True) as db:
        db.execute("DROP VIEW nodes_in_use")
    forced = run(RESTORE, "--database-url", url, "--force", backup)
    assert forced.returncode == 0, forced.stderr
    with connect(target) as db:
        assert db.execute("SELECT period_start::text FROM grid_metricvalue").fetchall() == [("2026-01-01",)]
        kind = db.execute("SELECT relkind FROM pg_class WHERE oid = 'grid_metricvalue'::regclass").fetchone()[
            0
        ]
        assert kind == "p"
