import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.urls import reverse

ROOT = Path(__file__).resolve().parents[2]

PRODUCTION_ENV = {
    "DJANGO_SETTINGS_MODULE": "config.settings.production",
    "DJANGO_SECRET_KEY": "kq8#v2!zL0p@x7Rw^m4Tn9%sJ3bY6cF1hD5gA-uE_oI+eW=rQ(tests)x3Vb8Nn0Mm2Kk7",
    "DJANGO_ALLOWED_HOSTS": "grid.example.org",
    "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/governance",
    "REDIS_URL": "redis://127.0.0.1:6379/0",
    "PII_ENCRYPTION_KEYS": "7y69-LaNVIPmK9aaugCiGrZDNRTvi5CNdtk1WDB1UEE=",
    "PII_HASH_KEY": "tests-only-lookup-hash-key-0123456789abcdef",
}


def _manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_", "REDIS_"))}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.django_db
def test_healthz_answers_200_when_database_and_redis_answer(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["checks"] == {"database": "ok", "redis": "ok"}


@pytest.mark.django_db
def test_healthz_answers_503_naming_redis_when_it_is_down(client, settings):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["failing"] == ["redis"]
    assert body["checks"]["database"] == "ok"


def test_production_settings_pass_the_deployment_checklist():
    result = _manage("check", "--deploy", "--fail-level", "WARNING", env=PRODUCTION_ENV)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_believes_the_one_proxy_in_front_and_can_be_told_of_more():
    code = "from django.conf import settings; print(settings.TRUSTED_PROXIES)"
    assert _manage("shell", "-c", code, env=PRODUCTION_ENV).stdout.split()[-1] == "1"
    more = {**PRODUCTION_ENV, "DJANGO_TRUSTED_PROXIES": "2"}
    assert _manage("shell", "-c", code, env=more).stdout.split()[-1] == "2"


def test_the_served_application_loads_its_views_and_freezes_what_startup_built():
    """A process serving `config.wsgi` has every view module loaded before its first request and
    the startup objects out of the garbage collector's full passes (no 60 ms pauses on requests)."""
    code = (
        "import gc, sys; print(gc.get_freeze_count()); import config.wsgi; "
        "print(gc.get_freeze_count(), 'grid.views' in sys.modules, 'demands.views' in sys.modules)"
    )
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_", "REDIS_"))}
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**clean, **PRODUCTION_ENV},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    before, after = result.stdout.split("\n", 1)
    frozen, views, other_views = after.split()
    assert before == "0" and int(frozen) > 10_000 and views == other_views == "True"


def test_production_refuses_to_start_without_a_secret_key():
    env = {k: v for k, v in PRODUCTION_ENV.items() if k != "DJANGO_SECRET_KEY"}
    result = _manage("check", env=env)
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY" in result.stderr


def test_production_refuses_to_start_without_the_personal_data_keys():
    env = {k: v for k, v in PRODUCTION_ENV.items() if k != "PII_ENCRYPTION_KEYS"}
    result = _manage("check", env=env)
    assert result.returncode != 0
    assert "PII_ENCRYPTION_KEYS" in result.stderr


def test_production_refuses_to_start_without_a_database():
    env = {k: v for k, v in PRODUCTION_ENV.items() if k != "DATABASE_URL"}
    result = _manage("check", env=env)
    assert result.returncode != 0
    assert "DATABASE_URL" in result.stderr


@pytest.mark.django_db
def test_admin_speaks_chinese_by_default_and_english_on_request(demo, client):
    client.force_login(demo.user("bhxc_secretary"))
    page = client.get(reverse("admin:grid_gridnode_changelist")).content.decode()
    assert "网格化社区治理" in page and "网格节点" in page
    english = client.get(
        reverse("admin:grid_gridnode_changelist"), HTTP_ACCEPT_LANGUAGE="en"
    ).content.decode()
    assert "Grid community governance" in english and "grid nodes" in english.lower()


@pytest.mark.django_db
def test_login_page_is_served_in_chinese(client):
    response = client.get(reverse("login"))
    assert response.status_code == 200
    assert "登录" in response.content.decode()


@pytest.mark.django_db
def test_home_sends_a_signed_in_user_to_their_workplace(demo, client):
    assert client.get("/").status_code == 302
    client.force_login(demo.user("bhxc_secretary"))
    response = client.get("/")
    assert response.status_code == 302 and response.url == reverse("admin:index")
