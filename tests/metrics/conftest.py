import pytest

from tests.demands.conftest import Loop
from tests.residents.conftest import Register


@pytest.fixture
def loop(demo):
    return Loop(demo)


@pytest.fixture
def register(demo):
    return Register(demo)
