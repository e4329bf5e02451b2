import pytest

from tests.residents.conftest import Register


@pytest.fixture
def register(demo):
    return Register(demo)
