import pytest
from rest_framework.test import APIClient

from grid.demo import DemoBuilder
from grid.models import GridNode, User


@pytest.fixture
def api_client():
    return APIClient()


@pytest.fixture
def demo(db):
    """The demo street: 5 communities, 12 grids, 42 compounds, 260 buildings, ~770 units, accounts."""
    DemoBuilder().build()
    return DemoStreet()


class DemoStreet:
    """Handles on the demo data that tests talk about."""

    def node(self, code: str) -> GridNode:
        return GridNode.objects.get(code=code)

    def user(self, username: str) -> User:
        return User.objects.get(username=username)

    @property
    def street(self) -> GridNode:
        return self.node("370105005")

    @property
    def beihai(self) -> GridNode:
        return self.node("370105005001")

    @property
    def other_community(self) -> GridNode:
        return self.node("370105005002")

    @property
    def grid_a(self) -> GridNode:
        return self.node("370105005001-G01")

    @property
    def grid_b(self) -> GridNode:
        return self.node("370105005001-G02")
