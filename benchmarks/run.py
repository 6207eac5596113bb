"""Timings of the list pages on a large registry: `make bench`.

Runs against the database of DATABASE_URL (PostgreSQL is the one that matters). The first run
generates the customers with `seed_demo --customers`; later runs reuse them. Each request goes
through the full Django stack in-process (no network), timed several times; the median is shown
beside its budget, and the run fails if a median is over budget.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench make bench
    BENCH_CUSTOMERS=1000000 DATABASE_URL=… make bench
"""

import io
import os
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import quote

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("SECRET_KEY", "benchmark-only")
os.environ.setdefault("ALLOWED_HOSTS", "testserver")
os.environ.setdefault("SECURE_SSL_REDIRECT", "false")

import django

django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth.models import User  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.test import Client  # noqa: E402
from django.urls import reverse  # noqa: E402

from customers.models import Customer, Merchant  # noqa: E402
from customers.services import api_key_create  # noqa: E402

CUSTOMERS = int(os.environ.get("BENCH_CUSTOMERS", "200000"))
REPEAT = int(os.environ.get("BENCH_REPEAT", "7"))


def prepare() -> tuple[Merchant, User, str]:
    call_command("migrate", verbosity=0)
    call_command("collectstatic", interactive=False, verbosity=0)  # as in production
    merchant = Merchant.objects.filter(slug="demo").first()
    have = Customer.objects.filter(merchant=merchant).count() if merchant else 0
    if have < CUSTOMERS:
        print(f"Generating {CUSTOMERS - have} customers (once)…", flush=True)
        call_command("seed_demo", customers=CUSTOMERS - have, stdout=io.StringIO())
    merchant = Merchant.objects.get(slug="demo")
    user = User.objects.get(username="demo")
    _, raw_key = api_key_create(merchant=merchant, name="Benchmark")
    return merchant, user, raw_key


class RequestFailed(Exception):
    """A benchmarked request did not answer 200: the run fails, it is never skipped."""


def get(client: Client, url: str, **headers):
    response = client.get(url, **headers)
    if response.status_code != 200:
        raise RequestFailed(f"HTTP {response.status_code} for {url}")
    return response


def timed(client: Client, url: str, **headers) -> list[float]:
    get(client, url, **headers)  # warm caches and connections
    samples = []
    for _ in range(REPEAT):
        started = time.perf_counter()
        get(client, url, **headers)
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def main() -> int:
    merchant, user, raw_key = prepare()
    sample = Customer.objects.filter(merchant=merchant).latest("created_at")
    staff = Client()
    staff.force_login(user)
    api = Client()
    bearer = {"HTTP_AUTHORIZATION": f"Bearer {raw_key}"}

    # (name, client, URL, headers, budget in ms)
    cases: list[tuple[str, Client, str, dict[str, str], int]] = [
        ("admin changelist", staff, "/admin/customers/customer/", {}, 300),
        ("admin search", staff, "/admin/customers/customer/?q=amadou", {}, 600),
        ("admin filter status", staff, "/admin/customers/customer/?status__exact=blocked", {}, 300),
    ]
    dashboard = reverse("customers:list")
    cases += [
        ("dashboard list", staff, dashboard, {}, 400),
        ("dashboard search", staff, f"{dashboard}?search=amadou", {}, 800),
    ]
    api_list = "/api/v1/customers"
    cases += [
        ("api list page 1", api, f"{api_list}?limit=100", bearer, 300),
        ("api filter email", api, f"{api_list}?email={quote(sample.email)}", bearer, 100),
        ("api filter phone", api, f"{api_list}?phone={quote(sample.phone)}", bearer, 100),
        ("api search", api, f"{api_list}?search=zyzzyva", bearer, 300),
        ("api get one", api, f"{api_list}/{sample.pk}", bearer, 50),
    ]

    cursor = get(api, f"{api_list}?limit=100", **bearer).json()["meta"]["next_cursor"]
    cases.append(("api list cursor", api, f"{api_list}?limit=100&cursor={cursor}", bearer, 300))

    vendor = settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1]
    total = Customer.objects.filter(merchant=merchant).count()
    print(f"{total} customers on {vendor}; median of {REPEAT} runs\n")
    print(f"{'case':22} {'median':>9} {'budget':>8}  result")
    failed = 0
    for name, client, url, headers, budget in cases:
        try:
            median = statistics.median(timed(client, url, **headers))
        except RequestFailed as error:
            failed += 1
            print(f"{name:22} {'—':>9} {budget:>6} ms  FAILED: {error}")
            continue
        ok = median <= budget
        failed += not ok
        print(f"{name:22} {median:7.1f} ms {budget:>5} ms  {'ok' if ok else 'OVER BUDGET'}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
