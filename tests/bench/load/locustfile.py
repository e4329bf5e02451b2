"""The load scenario: grid workers on phones and leaders on dashboards (run by bench_load).

Workers log in, look at their queue, open tickets, accept one and resolve it with a photo, and
record home visits; now and then a form is sent twice with the same idempotency key, as a phone
on a weak network retries. Leaders open the street and community dashboards. Every write a client
saw succeed is written to LOAD_LEDGER at the end, for the driver to check against the database.
"""

import io
import itertools
import json
import os
import random
import re
import time

from locust import HttpUser, between, events, task
from PIL import Image

ACCOUNTS = json.loads(os.environ["LOAD_ACCOUNTS"])
PASSWORD = os.environ["LOAD_PASSWORD"]
RETRY_SHARE = 0.1  # this share of writes is sent a second time with the same key

CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
KEY = re.compile(r'name="idempotency_key" value="([0-9a-f]+)"')
TICKET_LINK = re.compile(r'href="/m/tickets/(\d+)/"')
VISIT_LINK = re.compile(r'href="/m/visits/(\d+)/new/"')
NODE_LINK = re.compile(r'href="/dashboard/(\d+)/')

_workers = itertools.cycle(ACCOUNTS["workers"])
_leaders = itertools.cycle(ACCOUNTS["leaders"])
ledger = {"accepted": [], "resolved": [], "visits": {}, "retries": 0, "logins": []}
USERS = int(os.environ.get("LOAD_WORKERS", "200")) + int(os.environ.get("LOAD_LEADERS", "20"))


def _photo() -> bytes:
    image = Image.new("RGB", (640, 480), (random.randrange(256), 120, 90))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=80)
    return buffer.getvalue()


PHOTO = _photo()


class Phone(HttpUser):
    abstract = True

    def login(self, username: str) -> None:
        """Log in (timed into the ledger); once every user has, the statistics restart, so that
        they describe the working load, not 220 password checks in the first minute."""
        started = time.perf_counter()
        page = self.client.get("/accounts/login/", name="login form")
        token = CSRF.search(page.text).group(1)
        response = self.client.post(
            "/accounts/login/",
            {"username": username, "password": PASSWORD, "csrfmiddlewaretoken": token},
            name="login",
            allow_redirects=False,
        )
        if response.status_code != 302:
            raise RuntimeError(f"{username} could not log in: {response.status_code}")
        ledger["logins"].append(round((time.perf_counter() - started) * 1000))
        if len(ledger["logins"]) == USERS:
            self.environment.runner.stats.reset_all()
            ledger["steady_from"] = time.time()

    def post_form(self, url: str, page_text: str, data: dict, name: str, files=None) -> bool:
        """POST a form shown on `page_text`; True if the server took it (a redirect)."""
        data = {"csrfmiddlewaretoken": CSRF.search(page_text).group(1), **data}
        key = KEY.search(page_text)
        if key:
            data["idempotency_key"] = key.group(1)
        sends = 2 if key and random.random() < RETRY_SHARE else 1
        ok = False
        for attempt in range(sends):
            with self.client.post(
                url, data=data, files=files, name=name, allow_redirects=False, catch_response=True
            ) as response:
                if response.status_code == 302:
                    ok = True
                    response.success()
                else:
                    response.failure(f"form not taken: {response.status_code}")
            if attempt:
                ledger["retries"] += 1
        return ok


class GridWorker(Phone):
    fixed_count = int(os.environ.get("LOAD_WORKERS", "200"))
    wait_time = between(2, 6)  # reading the screen, walking to the next door

    def on_start(self):
        self.username = next(_workers)
        self.login(self.username)

    @task(4)
    def queue(self):
        self.client.get("/m/tickets/", name="queue")

    @task(3)
    def ticket_detail(self):
        ids = TICKET_LINK.findall(self.client.get("/m/tickets/", name="queue").text)
        if ids:
            self.client.get(f"/m/tickets/{random.choice(ids)}/", name="ticket detail")

    @task(2)
    def accept_and_resolve(self):
        ids = TICKET_LINK.findall(self.client.get("/m/tickets/", name="queue").text)
        for pk in ids:
            url = f"/m/tickets/{pk}/"
            page = self.client.get(url, name="ticket detail").text
            if 'value="accept"' in page:
                if self.post_form(url, page, {"action": "accept"}, name="accept"):
                    ledger["accepted"].append(int(pk))
                page = self.client.get(url, name="ticket detail").text
            if 'value="resolve"' in page:
                files = {"photos": ("现场.jpg", PHOTO, "image/jpeg")}
                if self.post_form(url, page, {"action": "resolve", "note": "已清理"}, "resolve", files):
                    ledger["resolved"].append(int(pk))
                return

    @task(3)
    def visit(self):
        ids = VISIT_LINK.findall(self.client.get("/m/visits/", name="visit list").text)
        if not ids:
            return
        url = f"/m/visits/{random.choice(ids[:20])}/new/"
        page = self.client.get(url, name="visit form").text
        data = {"findings": "入户走访，老人身体状况良好。", "colour": "blue"}
        if self.post_form(url, page, data, name="visit"):
            ledger["visits"][self.username] = ledger["visits"].get(self.username, 0) + 1


class Leader(Phone):
    fixed_count = int(os.environ.get("LOAD_LEADERS", "20"))
    wait_time = between(3, 8)

    def on_start(self):
        self.login(next(_leaders))
        self.nodes = NODE_LINK.findall(self.client.get("/dashboard/", name="dashboard").text)

    @task(2)
    def dashboard(self):
        self.client.get("/dashboard/", name="dashboard")

    @task(3)
    def drill_down(self):
        if self.nodes:
            self.client.get(f"/dashboard/{random.choice(self.nodes)}/", name="dashboard (child)")


@events.test_stop.add_listener
def write_ledger(environment, **kwargs):
    with open(os.environ["LOAD_LEDGER"], "w") as out:
        json.dump(ledger, out)
