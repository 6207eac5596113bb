"""`make bench`: the speed of every door on a large registry, against budgets.

On the PostgreSQL database of ``DATABASE_URL`` (built once with ``seed_demo --customers``, reused
afterwards), it measures:

1. The REST API over real HTTP: the app served by gunicorn (2 workers, DEBUG off, Redis as the
   cache), loaded by ``wrk`` with 8 connections, scenario by scenario. In the same run, each
   scenario is also served by two references: the very SQL the API ran, replayed by a bare
   Django view that returns the rows with orjson (``benchmarks.baseline``), and a DRF tutorial
   scaffold (``benchmarks.scaffold``). The budgets are ratios to them.
2. The dashboard and the admin in-process (Django's test client, logged in): the median time
   of the list, each filter, a search and a deep page.
3. ``import_customers``' core: a CSV of BENCH_IMPORT_ROWS (100,000) new customers into a
   merchant of its own, every rule and event included, in rows per second; then the export of
   those rows. The merchant is deleted afterwards.

It prints every figure with its budget and fails (exit status 1) when one is missed.

    export DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench
    REDIS_URL=redis://127.0.0.1:6379/1 make bench

The API and its bare reference are loaded in turn, BENCH_ROUNDS times each, and their ratio is
the median of the rounds' ratios: each pair is measured within seconds, so a machine that speeds
up or slows down between scenarios (shared hardware does, by a fifth) moves both alike.

Knobs: BENCH_CUSTOMERS (1,000,000), BENCH_SECONDS per wrk run (5), BENCH_ROUNDS (3),
BENCH_REPEAT for the in-process timings (9), BENCH_PORT (8765), BENCH_IMPORT_ROWS (100,000).
"""

import csv
import io
import json
import math
import os
import platform
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "benchmarks.settings")
os.environ.setdefault("SECRET_KEY", "benchmark-only-not-secret")
os.environ.setdefault("ALLOWED_HOSTS", "testserver,127.0.0.1")
os.environ.setdefault("SECURE_SSL_REDIRECT", "false")
os.environ.setdefault("DEBUG", "false")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth.models import User  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from customers.demo import generated_customers  # noqa: E402
from customers.models import ApiKey, Customer, CustomerCount, CustomerEvent, Merchant  # noqa: E402
from customers.services import api_key_create, merchant_create  # noqa: E402

CUSTOMERS = int(os.environ.get("BENCH_CUSTOMERS", "1000000"))
SECONDS = int(os.environ.get("BENCH_SECONDS", "5"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
REPEAT = int(os.environ.get("BENCH_REPEAT", "9"))
PORT = int(os.environ.get("BENCH_PORT", "8765"))
CONNECTIONS = 8
#: Budget of every in-process page of the dashboard and the admin, in milliseconds.
PAGE_BUDGET_MS = 100
#: Pages with a budget of their own: the overview's figures come from counters and aggregates
#: cached for a minute (the benchmark measures the warm page, as a staff member sees it).
PAGE_BUDGETS_MS = {"dashboard overview": 150}
#: Every API scenario serves at least this many times the scaffold's requests per second.
SCAFFOLD_RATIO = 3.0
IMPORT_ROWS = int(os.environ.get("BENCH_IMPORT_ROWS", "100000"))
#: Rows per second, at least: an import with every rule and event, and an export.
IMPORT_BUDGET = 10_000
EXPORT_BUDGET = 50_000
#: Peak memory of either command, in MB, whatever the number of rows.
MEMORY_BUDGET_MB = 300


class BenchmarkFailed(Exception):
    """The benchmark could not measure something: the run fails, nothing is skipped."""


@dataclass
class Scenario:
    name: str
    api: str  # path and query of the API
    scaffold: str  # the same request to the scaffold
    baseline_ratio: float  # the API's requests per second over the bare SQL view's, at least


def prepare() -> tuple[Merchant, User, str]:
    if connection.vendor != "postgresql":
        raise BenchmarkFailed("make bench measures PostgreSQL: set DATABASE_URL=postgres://…")
    if not settings.CACHES["default"]["BACKEND"].endswith("RedisCache"):
        raise BenchmarkFailed("make bench serves with Redis as the cache: set REDIS_URL=redis://…")
    call_command("migrate", verbosity=0)
    call_command("collectstatic", interactive=False, verbosity=0)  # as in production
    merchant = Merchant.objects.filter(slug="demo").first()
    have = Customer.objects.filter(merchant=merchant).count() if merchant else 0
    if have < CUSTOMERS:
        print(f"Generating {CUSTOMERS - have:,} customers (once)…", flush=True)
        call_command("seed_demo", customers=CUSTOMERS - have, stdout=io.StringIO())
    merchant = Merchant.objects.get(slug="demo")
    user = User.objects.get(username="demo")
    ApiKey.objects.filter(merchant=merchant, name="Benchmark").delete()
    _, raw_key = api_key_create(merchant=merchant, name="Benchmark")
    return merchant, user, raw_key


def scenarios(merchant: Merchant, api: Client, raw_key: str) -> list[Scenario]:
    sample = Customer.objects.filter(merchant=merchant).order_by("-created_at")[1000]
    first_page = get(api, "/api/v1/customers", HTTP_AUTHORIZATION=f"Bearer {raw_key}").json()
    cursor = first_page["meta"]["next_cursor"]
    scaffold_first = get(
        api, "/bench/scaffold/cursor/customers/", HTTP_AUTHORIZATION=f"Bearer {raw_key}"
    ).json()
    scaffold_cursor = scaffold_first["next"].split("cursor=", 1)[1].split("&", 1)[0]
    digits = sample.phone[-6:]
    return [
        Scenario("get one", f"/api/v1/customers/{sample.pk}",
                 f"/bench/scaffold/customers/{sample.pk}/", 0.5),
        Scenario("list 20, page", "/api/v1/customers", "/bench/scaffold/customers/", 0.4),
        Scenario("list 20, cursor", f"/api/v1/customers?cursor={cursor}",
                 f"/bench/scaffold/cursor/customers/?cursor={scaffold_cursor}", 0.4),
        Scenario("?email=", f"/api/v1/customers?email={quote(sample.email)}",
                 f"/bench/scaffold/customers/?email={quote(sample.email)}", 0.5),
        Scenario("list 100", "/api/v1/customers?limit=100",
                 "/bench/scaffold/customers/?limit=100", 0.3),
        Scenario("?search= 6 digits", f"/api/v1/customers?search={digits}",
                 f"/bench/scaffold/customers/?search={digits}", 0.5),
    ]  # fmt: skip


def get(client: Client, url: str, **headers):
    response = client.get(url, **headers)
    if response.status_code != 200:
        raise BenchmarkFailed(f"HTTP {response.status_code} for {url}: {response.content[:300]!r}")
    return response


def capture_sql(api: Client, raw_key: str, cases: list[Scenario]) -> dict[str, list[str]]:
    """The SQL the API runs for each scenario, as the bare view will replay it."""
    captured = {}
    for index, case in enumerate(cases):
        get(api, case.api, HTTP_AUTHORIZATION=f"Bearer {raw_key}")  # the key's last use is noted
        with CaptureQueriesContext(connection) as queries:
            get(api, case.api, HTTP_AUTHORIZATION=f"Bearer {raw_key}")
        captured[f"s{index}"] = [
            q["sql"] for q in queries.captured_queries if q["sql"].startswith("SELECT")
        ]
    return captured


def serve(sql_file: str) -> subprocess.Popen:
    if shutil.which("wrk") is None:
        raise BenchmarkFailed("wrk is not installed: apt-get install wrk")
    environment = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "benchmarks.settings",
        "BENCH_BASELINE_SQL": sql_file,
        "ALLOWED_HOSTS": "127.0.0.1",
        # Every request still counts against the key's rate; none is refused for it.
        "API_THROTTLE_RATE": "100000000/minute",
    }
    server = subprocess.Popen(
        [str(ROOT / ".venv/bin/gunicorn"), "config.wsgi", "--workers", "2",
         "--bind", f"127.0.0.1:{PORT}", "--log-level", "warning"],
        cwd=ROOT, env=environment,
    )  # fmt: skip
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{PORT}/healthz", timeout=1):
                return server
        except OSError:
            time.sleep(0.2)
    server.terminate()
    raise BenchmarkFailed("gunicorn did not answer /healthz within 30 s")


UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def settle() -> None:
    """Wait until the server has finished what the last run left in flight (a slow reference
    would otherwise hold up the first requests of the next run)."""
    quick = 0
    deadline = time.monotonic() + 60
    while quick < 3 and time.monotonic() < deadline:
        started = time.perf_counter()
        with urllib.request.urlopen(f"http://127.0.0.1:{PORT}/healthz", timeout=30):
            pass
        quick = quick + 1 if time.perf_counter() - started < 0.02 else 0


def load(path: str, raw_key: str) -> tuple[float, float, float]:
    """(requests per second, p50 ms, p99 ms) of ``path`` under wrk."""
    settle()
    result = subprocess.run(
        # A reference that scans the table takes seconds a request: measured, not timed out.
        ["wrk", "-t2", f"-c{CONNECTIONS}", f"-d{SECONDS}s", "--timeout", "60s", "--latency",
         "-H", f"Authorization: Bearer {raw_key}", f"http://127.0.0.1:{PORT}{path}"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    output = result.stdout
    if "Non-2xx" in output or "Socket errors" in output:
        raise BenchmarkFailed(f"errors while loading {path}:\n{output}")
    rps = float(output.split("Requests/sec:", 1)[1].split()[0])
    percentiles = {
        match[1]: float(match[2]) * UNITS[match[3]]
        for match in re.finditer(r"\s(50|99)%\s+([\d.]+)(us|ms|s)\b", output)
    }
    return rps, percentiles["50"], percentiles["99"]


def http_scenarios(cases: list[Scenario], raw_key: str) -> int:
    print(
        f"\nREST API over HTTP: gunicorn -w 2, wrk {CONNECTIONS} connections, {SECONDS} s a run; "
        f"the API and the bare SQL in turn, {ROUNDS} runs each (medians)"
    )
    header = f"{'scenario':20} {'req/s':>7} {'p50':>7} {'p99':>7}  {'bare SQL':>9} {'ratio':>6}"
    print(f"{header} {'budget':>7}  {'scaffold':>9} {'ratio':>6} {'budget':>7}  result")
    failed = 0
    for index, case in enumerate(cases):
        ours_runs, bare_runs = [], []
        for _ in range(ROUNDS):
            ours_runs.append(load(case.api, raw_key))
            bare_runs.append(load(f"/bench/baseline/s{index}", raw_key)[0])
        ours, p50, p99 = statistics.median_low(ours_runs)
        bare = statistics.median(bare_runs)
        to_bare = statistics.median(o[0] / b for o, b in zip(ours_runs, bare_runs, strict=True))
        scaffold, _, _ = load(case.scaffold, raw_key)
        # A scaffold that answers no request within a run (each one takes longer than the run)
        # is slower than any rate.
        to_scaffold = ours / scaffold if scaffold else math.inf
        ok = to_bare >= case.baseline_ratio and to_scaffold >= SCAFFOLD_RATIO
        failed += not ok
        print(
            f"{case.name:20} {ours:7.0f} {p50:5.1f}ms {p99:5.1f}ms  {bare:9.0f} {to_bare:5.2f}x"
            f" {case.baseline_ratio:6.2f}x  {scaffold:9.0f} {to_scaffold:5.1f}x"
            f" {SCAFFOLD_RATIO:6.1f}x  {'ok' if ok else 'MISSED'}"
        )
    return failed


def page_scenarios(merchant: Merchant, user: User) -> int:
    staff = Client()
    staff.force_login(user)
    sample = Customer.objects.filter(merchant=merchant).order_by("-created_at")[1000]
    pages = [
        ("dashboard overview", "/"),
        ("dashboard list", "/customers/"),
        *(
            (f"dashboard {query}", f"/customers/?{query}")
            for query in (
                f"email={quote(sample.email)}", f"phone={quote(sample.phone)}", "type=business",
                "status=blocked", "is_active=false", "country=KE", "currency=NGN",
                "created_after=2026-01-01", "search=amadou", f"search={sample.phone[-6:]}",
                "ordering=name", "page=5000",
            )
        ),
        ("admin list", "/admin/customers/customer/"),
        *(
            (f"admin {query}", f"/admin/customers/customer/?{query}")
            for query in (
                "type__exact=business", "status__exact=blocked", "country=KE",
                f"merchant__id__exact={merchant.pk}", "q=amadou", f"q={sample.phone[-6:]}",
                "o=1", "p=5000",
            )
        ),
    ]  # fmt: skip
    print(f"\nDashboard and admin in-process (logged in), median of {REPEAT}")
    print(f"{'page':42} {'p50':>8} {'budget':>8}  result")
    failed = 0
    for name, url in pages:
        get(staff, url)  # warm caches and connections
        samples = []
        for _ in range(REPEAT):
            started = time.perf_counter()
            get(staff, url)
            samples.append((time.perf_counter() - started) * 1000)
        median = statistics.median(samples)
        budget = PAGE_BUDGETS_MS.get(name, PAGE_BUDGET_MS)
        ok = median <= budget
        failed += not ok
        result = "ok" if ok else "OVER BUDGET"
        print(f"{name[:42]:42} {median:6.1f}ms {budget:6d}ms  {result}")
    return failed


def command(*args: str) -> tuple[float, float]:
    """Run ``manage.py`` with ``args`` in a process of its own, as an operator would: the rows
    a second it reports (its work, without Python's start) and its peak memory in MB."""
    with tempfile.TemporaryFile() as said:
        process = subprocess.Popen(
            [sys.executable, str(ROOT / "manage.py"), *args],
            cwd=ROOT,
            stdout=said,
            stderr=subprocess.STDOUT,
        )
        _, status, usage = os.wait4(process.pid, 0)
        said.seek(0)
        output = said.read().decode()
    found = re.search(r"\(([\d,]+) rows/s\)", output)
    if os.waitstatus_to_exitcode(status) != 0 or not found:
        raise BenchmarkFailed(f"manage.py {' '.join(args)}:\n{output[-2000:]}")
    return float(found.group(1).replace(",", "")), usage.ru_maxrss / 1024


def import_export_scenarios() -> int:
    """``import_customers`` of a CSV of ``IMPORT_ROWS`` new customers, then ``export_customers``
    of them, each in its own process: rows per second and peak memory, against budgets."""
    merchant = merchant_create(name="Import benchmark", slug=f"bench-import-{os.getpid()}")
    failed = 0
    try:
        with tempfile.TemporaryDirectory() as folder:
            source = Path(folder) / "customers.csv"
            with open(source, "w", encoding="utf-8", newline="") as out:
                writer = csv.writer(out)
                writer.writerow(["reference", "name", "email", "phone", "country", "city",
                                 "status", "metadata"])  # fmt: skip
                for customer in generated_customers(merchant, IMPORT_ROWS):
                    writer.writerow([
                        customer.reference, customer.name, customer.email, customer.phone,
                        customer.country, customer.address["city"], customer.status.upper(),
                        json.dumps(customer.metadata),
                    ])  # fmt: skip
            import_rate, import_memory = command(
                "import_customers", str(source), "--merchant", merchant.slug
            )
            created = Customer.objects.filter(merchant=merchant).count()
            if created != IMPORT_ROWS:
                raise BenchmarkFailed(f"import: {created:,} of {IMPORT_ROWS:,} rows created")
            export_rate, export_memory = command(
                "export_customers", "--merchant", merchant.slug,
                "--output", str(Path(folder) / "export.csv"),
            )  # fmt: skip
    finally:
        Customer.objects.filter(merchant=merchant).delete()
        CustomerEvent.objects.filter(merchant=merchant).delete()
        CustomerCount.objects.filter(merchant=merchant).delete()
        merchant.delete()
        # The next run finds the registry as this one did: the deleted rows vacuumed away, even
        # where autovacuum is off (a search's capped count read them all: 0.8 s instead of 0.07).
        with connection.cursor() as cursor:
            for model in (Customer, CustomerEvent, CustomerCount):
                cursor.execute(f"VACUUM ANALYZE {model._meta.db_table}")
    print(f"\nimport_customers and export_customers of {IMPORT_ROWS:,} rows, each in its process")
    print(f"{'command':42} {'rows/s':>9} {'budget':>9}  {'peak RSS':>9} {'budget':>7}  result")
    for name, rate, memory, budget in (
        ("import CSV, rules and events", import_rate, import_memory, IMPORT_BUDGET),
        ("export CSV", export_rate, export_memory, EXPORT_BUDGET),
    ):
        ok = rate >= budget and memory <= MEMORY_BUDGET_MB
        failed += not ok
        print(f"{name:42} {rate:9,.0f} {budget:9,}  {memory:7,.0f}MB {MEMORY_BUDGET_MB:5}MB  "
              f"{'ok' if ok else 'MISSED'}")  # fmt: skip
    return failed


def main() -> int:
    # The in-process test client speaks plain HTTP.
    settings.SESSION_COOKIE_SECURE = settings.CSRF_COOKIE_SECURE = False
    merchant, user, raw_key = prepare()
    total = Customer.objects.filter(merchant=merchant).count()
    cpu = next(
        (line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
         if line.startswith("model name")), platform.processor(),
    )  # fmt: skip
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        (version,) = cursor.fetchone()
    print(f"{total:,} customers in one merchant, PostgreSQL {version}, "
          f"Python {platform.python_version()}, {os.cpu_count()} x {cpu}")  # fmt: skip
    api = Client()
    cases = scenarios(merchant, api, raw_key)
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as sql_file:
        json.dump(capture_sql(api, raw_key, cases), sql_file)
    connection.close()
    server = serve(sql_file.name)
    try:
        failed = http_scenarios(cases, raw_key)
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
        os.unlink(sql_file.name)
    failed += page_scenarios(merchant, user)
    failed += import_export_scenarios()
    print(f"\n{'All budgets met.' if not failed else f'{failed} budget(s) missed.'}")
    return 1 if failed else 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BenchmarkFailed as error:
        sys.exit(f"make bench: {error}")
