"""Login throttling: the login form, the admin login and the API token endpoint lock a username
out from an address after five wrong passwords; the token endpoint also limits each address."""

import pytest
from axes.models import AccessAttempt
from django.core.cache import cache
from django.test import override_settings

pytestmark = pytest.mark.django_db

PASSWORD = "s3cret-pass-word"


@pytest.fixture(autouse=True)
def clean_counters():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def secretary(demo):
    user = demo.user("bhxc_secretary")
    user.set_password(PASSWORD)
    user.save()
    return user


def login(client, username, password, address="10.0.0.1"):
    return client.post("/accounts/login/", {"username": username, "password": password}, REMOTE_ADDR=address)


def test_five_wrong_passwords_lock_the_username_from_that_address(client, secretary):
    for _ in range(4):
        assert login(client, "bhxc_secretary", "wrong").status_code == 200  # the form again, with an error
    fifth = login(client, "bhxc_secretary", "wrong")
    assert fifth.status_code == 429
    # Locked: even the right password is refused, with a page that says why and for how long.
    locked = login(client, "bhxc_secretary", PASSWORD)
    assert locked.status_code == 429
    body = locked.content.decode()
    assert "登录失败次数过多" in body and "15" in body
    assert "_auth_user_id" not in client.session
    attempt = AccessAttempt.objects.get(username="bhxc_secretary")
    assert attempt.ip_address == "10.0.0.1" and attempt.failures_since_start >= 5


def test_a_lockout_is_for_that_username_and_address_only(client, secretary, demo):
    for _ in range(5):
        login(client, "bhxc_secretary", "wrong")
    # The same person from another address (the office NAT is not everyone's address) gets in.
    assert login(client, "bhxc_secretary", PASSWORD, address="10.0.0.2").status_code == 302
    client.logout()
    # Another worker behind the same address is not locked out.
    other = demo.user("bhxc_g1_a")
    other.set_password(PASSWORD)
    other.save()
    assert login(client, "bhxc_g1_a", PASSWORD).status_code == 302


def test_a_success_before_the_limit_resets_the_count(client, secretary):
    for _ in range(4):
        login(client, "bhxc_secretary", "wrong")
    assert login(client, "bhxc_secretary", PASSWORD).status_code == 302
    client.logout()
    for _ in range(4):
        assert login(client, "bhxc_secretary", "wrong").status_code == 200
    assert login(client, "bhxc_secretary", PASSWORD).status_code == 302


def test_the_admin_login_shares_the_lockout(client, secretary):
    for _ in range(5):
        login(client, "bhxc_secretary", "wrong")
    response = client.post(
        "/admin/login/?next=/admin/",
        {"username": "bhxc_secretary", "password": PASSWORD},
        REMOTE_ADDR="10.0.0.1",
    )
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session


def test_the_token_endpoint_locks_out_like_the_form(api_client, secretary):
    def token(password):
        return api_client.post(
            "/api/v1/auth/token/",
            {"username": "bhxc_secretary", "password": password},
            format="json",
            REMOTE_ADDR="10.0.0.7",
        )

    for _ in range(4):
        assert token("wrong").status_code == 400
    assert token("wrong").status_code == 429  # the fifth failure locks, as on the form
    locked = token(PASSWORD)
    assert locked.status_code == 429
    assert locked.json()["code"] == "locked_out"
    assert "15" in locked.json()["detail"]


@override_settings(TOKEN_REQUESTS_PER_MINUTE=3)
def test_the_token_endpoint_limits_each_address_whatever_the_username(api_client, secretary):
    for number in range(3):
        response = api_client.post(
            "/api/v1/auth/token/",
            {"username": f"guess{number}", "password": "x"},
            format="json",
            REMOTE_ADDR="10.0.0.9",
        )
        assert response.status_code == 400
    throttled = api_client.post(
        "/api/v1/auth/token/",
        {"username": "bhxc_secretary", "password": PASSWORD},
        format="json",
        REMOTE_ADDR="10.0.0.9",
    )
    assert throttled.status_code == 429
    # Another address is not held back.
    other = api_client.post(
        "/api/v1/auth/token/",
        {"username": "bhxc_secretary", "password": PASSWORD},
        format="json",
        REMOTE_ADDR="10.0.0.10",
    )
    assert other.status_code == 200 and other.json()["token"]


def test_a_forged_forwarded_for_header_does_not_dodge_the_lockout(client, secretary):
    # No trusted proxy configured: the header is the client's own words and is ignored.
    for number in range(5):
        client.post(
            "/accounts/login/",
            {"username": "bhxc_secretary", "password": "wrong"},
            REMOTE_ADDR="10.0.0.1",
            HTTP_X_FORWARDED_FOR=f"192.0.2.{number}",
        )
    assert login(client, "bhxc_secretary", PASSWORD).status_code == 429


@override_settings(TRUSTED_PROXIES=1)
def test_behind_one_proxy_the_address_it_appended_is_the_client(client, secretary):
    for _ in range(5):
        client.post(
            "/accounts/login/",
            {"username": "bhxc_secretary", "password": "wrong"},
            REMOTE_ADDR="10.9.9.9",  # the proxy
            HTTP_X_FORWARDED_FOR="198.51.100.1, 203.0.113.5",  # forged first entry, then the real client
        )
    attempt = AccessAttempt.objects.get(username="bhxc_secretary")
    assert attempt.ip_address == "203.0.113.5"
    # The same account from another client behind the proxy is not locked out.
    response = client.post(
        "/accounts/login/",
        {"username": "bhxc_secretary", "password": PASSWORD},
        REMOTE_ADDR="10.9.9.9",
        HTTP_X_FORWARDED_FOR="203.0.113.6",
    )
    assert response.status_code == 302


@pytest.mark.parametrize("forwarded", ["unknown", "", ",,,", "999.1.1.1", "x" * 500])
@override_settings(TRUSTED_PROXIES=1)
def test_a_garbled_forwarded_for_header_falls_back_to_the_peer_address(client, secretary, forwarded):
    response = client.post(
        "/accounts/login/",
        {"username": "bhxc_secretary", "password": "wrong"},
        REMOTE_ADDR="10.0.0.3",
        HTTP_X_FORWARDED_FOR=forwarded,
    )
    assert response.status_code == 200
    assert AccessAttempt.objects.get(username="bhxc_secretary").ip_address == "10.0.0.3"


def test_the_lockout_records_in_the_admin_are_in_chinese(client, secretary, admin_user):
    for _ in range(5):
        login(client, "bhxc_secretary", "wrong")
    client.force_login(admin_user)
    index = client.get("/admin/").content.decode()
    assert "登录防护" in index and "登录尝试" in index
    page = client.get("/admin/axes/accessattempt/").content.decode()
    assert "登录失败次数" in page and "IP 地址" in page and "bhxc_secretary" in page
