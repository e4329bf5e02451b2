import pytest
from hypothesis import HealthCheck, settings

# Reproducible in CI: the same examples every run, nothing stored between runs, no per-example
# time limit (the database examples share a slow machine with the rest of the suite). Each
# database example makes its own records, so the function-scoped fixtures are safe to share.
settings.register_profile(
    "suite",
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
settings.load_profile("suite")

from tests.demands.conftest import Loop  # noqa: E402


@pytest.fixture
def loop(demo):
    return Loop(demo)
