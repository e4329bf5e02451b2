"""The whole API fuzzed from its own OpenAPI schema, as a grid worker and as community staff:
whatever the input, no response is a server error and every response matches the schema."""

import json

import pytest
import schemathesis
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer
from hypothesis import HealthCheck, Phase, settings
from rest_framework.authtoken.models import Token
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import content_type_conformance, response_schema_conformance

from config.wsgi import application

pytestmark = pytest.mark.django_db

CHECKS = [not_a_server_error, response_schema_conformance, content_type_conformance]

# The schema the app serves at /api/schema/, generated in-process; requests go to the app itself.
schema = schemathesis.openapi.from_dict(
    json.loads(OpenApiJsonRenderer().render(SchemaGenerator().get_schema(request=None, public=True)))
)
schema.app = application


@pytest.fixture(scope="module")
def tokens(django_db_setup, django_db_blocker):
    """A grid worker's and community staff's API tokens on the demo street, built once for all
    operations inside a transaction rolled back at the end (each test adds its own savepoint)."""
    from django.db import connection, transaction

    from grid.demo import DemoBuilder
    from grid.models import User

    with django_db_blocker.unblock(), transaction.atomic():
        DemoBuilder().build()
        keys = [
            Token.objects.get_or_create(user=User.objects.get(username=name))[0].key
            for name in ("bhxc_g1_a", "bhxc_staff")
        ]
        connection.check_constraints()
        yield keys
        transaction.set_rollback(True)


@pytest.fixture(autouse=True)
def _one_connection():
    """As Django's test client does: the requests keep the test's connection (and transaction)."""
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@schema.parametrize()
# Generated cases only: schemathesis' deterministic "coverage" cases (sent as explicit examples)
# are some 80 per operation, which took the suite past its time budget on a 2-core machine.
@settings(
    max_examples=10,
    phases=[Phase.generate, Phase.shrink],
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_no_input_gets_a_server_error_and_every_response_matches_the_schema(case, tokens):
    for token in tokens:
        response = case.call(headers={"Authorization": f"Token {token}"})
        case.validate_response(response, checks=CHECKS)
