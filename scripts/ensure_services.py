"""Before the test suite: say clearly when PostgreSQL or Redis is not reachable, and create the
project database if it is missing (the test database itself is made by pytest-django)."""

import os
import sys

import django
import psycopg
import redis
from psycopg import sql

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
django.setup()

from django.conf import settings  # noqa: E402


def main() -> int:
    db = settings.DATABASES["default"]
    params = {
        "host": db.get("HOST") or None,
        "port": db.get("PORT") or None,
        "user": db.get("USER") or None,
        "password": db.get("PASSWORD") or None,
        "connect_timeout": 5,
    }
    try:
        with psycopg.connect(dbname="postgres", autocommit=True, **params) as connection:
            exists = connection.execute(
                "SELECT 1 FROM pg_database WHERE datname = %s", [db["NAME"]]
            ).fetchone()
            if not exists:
                connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(db["NAME"])))
                print(f"Created database {db['NAME']}.")
    except psycopg.OperationalError as error:
        print(f"PostgreSQL is not reachable ({db.get('HOST')}:{db.get('PORT')}): {error}", file=sys.stderr)
        print("Start it, or point DATABASE_URL at a running server.", file=sys.stderr)
        return 1
    try:
        redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=5).ping()
    except redis.RedisError as error:
        print(f"Redis is not reachable at {settings.REDIS_URL}: {error}", file=sys.stderr)
        print("Start it, or point REDIS_URL at a running server.", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
