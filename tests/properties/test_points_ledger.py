"""The points ledger under random grants and redemptions: double entry, never negative, a refused
movement writes nothing, balances always equal what was granted less what was spent."""

import pytest
from django.core.exceptions import ValidationError
from django.db.models import Sum
from hypothesis import given, settings
from hypothesis import strategies as st

from grid.errors import ConflictError
from services import services
from services.models import PointsEntry, PointsTransaction, Reward

pytestmark = pytest.mark.django_db

moves = st.lists(
    st.one_of(
        st.tuples(st.just("grant"), st.integers(min_value=-5, max_value=2**40)),
        st.tuples(st.just("grant"), st.integers(min_value=1, max_value=60)),
        st.tuples(st.just("redeem"), st.integers(min_value=0, max_value=2)),
    ),
    max_size=12,
)


@settings(max_examples=60)
@given(moves)
def test_random_grants_and_redemptions_keep_the_ledger_exact(loop, sequence):
    community = loop.demo.beihai
    account = services.account_for(community=community, user=loop.demo.user("bhxc_volunteer"))
    secretary = loop.demo.user("bhxc_secretary")
    rewards = [
        Reward.objects.create(community=community, name="大米", kind="goods", cost=25, stock=2),
        Reward.objects.create(community=community, name="理发", kind="service", cost=10),
        Reward.objects.create(community=community, name="停用", kind="goods", cost=1, is_active=False),
    ]
    expected = services.balance(account)
    for kind, amount in sequence:
        movements = PointsTransaction.objects.count()
        try:
            if kind == "grant":
                services.points_grant(account=account, amount=amount, memo="志愿服务", actor=secretary)
                expected += amount
            else:
                reward = rewards[amount]
                services.points_redeem(account=account, reward=reward, actor=None)
                expected -= reward.cost
        except (ValidationError, ConflictError):
            assert PointsTransaction.objects.count() == movements  # refused: nothing written
        assert services.balance(account) == expected >= 0
    assert PointsEntry.objects.aggregate(total=Sum("amount"))["total"] in (0, None)
    unbalanced = (
        PointsEntry.objects.values("transaction").annotate(total=Sum("amount")).exclude(total=0).count()
    )
    assert unbalanced == 0
    assert all(reward.stock is None or reward.stock >= 0 for reward in Reward.objects.all())
