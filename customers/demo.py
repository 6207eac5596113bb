"""Demo data drawn from the payment providers' own examples (Dakar, Lagos, Accra, Nairobi…),
and a generator of realistic customers in bulk for load and speed checks."""

import itertools
import random
import secrets
import unicodedata
from collections.abc import Iterator
from datetime import timedelta

import orjson
from django.db import connection, transaction
from django.utils import timezone

from .ids import uuid7
from .models import Customer, Merchant
from .services import customer_counts_rebuild

DEMO_CUSTOMERS = [
    {
        "reference": "demo-001",
        "name": "Amadou Ba",
        "email": "amadou.ba@example.com",
        "phone": "+221771234567",
        "whatsapp": "+221771234567",
        "country": "Senegal",
        "currency": "XOF",
        "address": {"line1": "12 Avenue Cheikh Anta Diop", "city": "Dakar"},
        "metadata": {"segment": "retail", "preferred_channel": "whatsapp"},
    },
    {
        "reference": "demo-002",
        "name": "Fatou Diop",
        "phone": "+221779876543",
        "country": "SN",
        "currency": "XOF",
        "address": {"city": "Thiès"},
        "status": "pending_kyc",
    },
    {
        "reference": "demo-003",
        "type": "business",
        "name": "Sahel Logistics SARL",
        "company": "Sahel Logistics SARL",
        "email": "billing@sahel-logistics.example.com",
        "phone": "+221338201234",
        "country": "SEN",
        "currency": "XOF",
        "website": "https://sahel-logistics.example.com",
        "address": {"line1": "Zone industrielle", "city": "Dakar", "postal_code": "10200"},
        "metadata": {"tier": "gold", "account_manager": "awa.ndiaye"},
    },
    {
        "reference": "demo-004",
        "first_name": "James",
        "last_name": "Okafor",
        "email": "james.okafor@example.com",
        "phone": "+2348012345678",
        "country": "NG",
        "currency": "NGN",
        "address": {"line1": "15 Admiralty Way", "city": "Lagos", "state": "Lagos"},
    },
    {
        "reference": "demo-005",
        "first_name": "Chiamaka",
        "last_name": "Eze",
        "email": "chiamaka.eze@example.com",
        "phone": "+2348031234567",
        "country": "Nigeria",
        "currency": "NGN",
        "address": {"city": "Abuja", "state": "FCT"},
        "metadata": {"loyalty_points": 1200},
    },
    {
        "reference": "demo-006",
        "type": "business",
        "name": "Lekki Fresh Foods Ltd",
        "company": "Lekki Fresh Foods Ltd",
        "email": "accounts@lekkifresh.example.com",
        "phone": "+2349061234567",
        "country": "NG",
        "currency": "NGN",
        "address": {"line1": "4 Admiralty Road", "city": "Lagos", "state": "Lagos"},
        "status": "inactive",
    },
    {
        "reference": "demo-007",
        "name": "Yaw Mensah",
        "email": "yaw@example.com",
        "phone": "+233249998888",
        "country": "GH",
        "currency": "GHS",
        "address": {"city": "Accra"},
        "metadata": {"kyc_level": 2, "newsletter": True},
    },
    {
        "reference": "demo-008",
        "name": "Akosua Asante",
        "email": "akosua.asante@example.com",
        "phone": "+233201234567",
        "country": "Ghana",
        "currency": "GHS",
        "address": {"city": "Kumasi"},
    },
    {
        "reference": "demo-009",
        "name": "Wanjiku Kamau",
        "email": "wanjiku.kamau@example.com",
        "phone": "+254712345678",
        "whatsapp": "+254712345678",
        "country": "KE",
        "currency": "KES",
        "address": {"line1": "Moi Avenue", "city": "Nairobi"},
    },
    {
        "reference": "demo-010",
        "name": "Otieno Odhiambo",
        "phone": "+254799000001",
        "country": "Kenya",
        "currency": "KES",
        "address": {"city": "Mombasa"},
        "status": "blocked",
        "description": "Blocked after repeated chargebacks.",
    },
    {
        "reference": "demo-011",
        "name": "Aya Kouassi",
        "email": "aya.kouassi@example.com",
        "phone": "+2250701234567",
        "country": "Côte d'Ivoire",
        "currency": "XOF",
        "address": {"city": "Abidjan"},
    },
    {
        "reference": "demo-012",
        "type": "business",
        "name": "Kigali Tech Hub",
        "company": "Kigali Tech Hub Ltd",
        "email": "finance@kigalitech.example.com",
        "phone": "+250788123456",
        "country": "RW",
        "currency": "RWF",
        "address": {"city": "Kigali"},
        "metadata": {"plan": "enterprise", "seats": 40},
    },
]

# Country, currency, cities, mobile prefixes (after the country code) and digits that follow.
_REGIONS = [
    ("SN", "221", "XOF", ["Dakar", "Thiès", "Saint-Louis", "Touba"], ["77", "78", "76", "70"], 7),
    ("NG", "234", "NGN", ["Lagos", "Abuja", "Ibadan", "Kano"], ["803", "806", "813", "906"], 7),
    ("GH", "233", "GHS", ["Accra", "Kumasi", "Tamale"], ["24", "54", "20", "50"], 7),
    ("KE", "254", "KES", ["Nairobi", "Mombasa", "Kisumu"], ["712", "722", "733", "799"], 6),
    ("CI", "225", "XOF", ["Abidjan", "Bouaké", "Yamoussoukro"], ["07", "05", "01"], 8),
    ("RW", "250", "RWF", ["Kigali", "Butare"], ["788", "789", "722"], 6),
]
_FIRST_NAMES = [
    "Amadou", "Fatou", "Moussa", "Awa", "Ibrahima", "Aminata", "James", "Chiamaka", "Emeka",
    "Ngozi", "Tunde", "Yaw", "Akosua", "Kwame", "Abena", "Wanjiku", "Otieno", "Achieng",
    "Kamau", "Aya", "Koffi", "Jean", "Grace", "Samuel", "Mariam", "Ousmane", "Binta",
]  # fmt: skip
_LAST_NAMES = [
    "Ba", "Diop", "Ndiaye", "Fall", "Sow", "Okafor", "Eze", "Adeyemi", "Balogun", "Mensah",
    "Asante", "Owusu", "Boateng", "Kamau", "Odhiambo", "Mwangi", "Kouassi", "Traoré",
    "Uwimana", "Habimana", "Sy", "Diallo", "Kone",
]  # fmt: skip
_STATUSES = ["active"] * 85 + ["pending_kyc"] * 8 + ["inactive"] * 5 + ["blocked"] * 2


def _ascii(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()


#: What ``generated_rows`` fills, in order; the other columns keep their defaults.
GENERATED_COLUMNS = (
    "id", "merchant_id", "reference", "type", "name", "first_name", "last_name", "company",
    "email", "phone", "whatsapp", "country", "currency", "address", "website", "description",
    "status", "metadata", "source", "created_by", "created_at", "updated_at", "version",
)  # fmt: skip


def generated_rows(merchant_id, count: int, *, seed: int | None = None) -> Iterator[tuple]:
    """``count`` valid, already-normalised customers as rows of ``GENERATED_COLUMNS``
    (E.164 phones, ISO codes, emails unique within this batch), created over the last two
    years: plain tuples, cheap enough to load a million quickly."""
    rng = random.Random(seed)
    batch = secrets.token_hex(3)
    now = timezone.now()
    two_years = 2 * 365 * 24 * 3600
    for n in range(count):
        country, dial, currency, cities, prefixes, digits = rng.choice(_REGIONS)
        first, last = rng.choice(_FIRST_NAMES), rng.choice(_LAST_NAMES)
        phone = f"+{dial}{rng.choice(prefixes)}{rng.randrange(10**digits):0{digits}d}"
        business = rng.random() < 0.1
        company = (
            f"{last} {rng.choice(['Trading', 'Services', 'Foods', 'Tech'])}" if business else ""
        )
        created = now - timedelta(seconds=rng.randrange(two_years))
        yield (
            uuid7(), merchant_id, f"gen-{batch}-{n}",
            "business" if business else "individual",
            company or f"{first} {last}",
            "" if business else first, "" if business else last, company,
            _ascii(f"{first}.{last}.{batch}{n}@example.com".lower()),
            phone, "", country, currency, {"city": rng.choice(cities)}, "", "",
            rng.choice(_STATUSES), {"segment": rng.choice(["retail", "sme", "vip"])},
            Customer.Source.IMPORT, "seed_demo", created, created, 1,
        )  # fmt: skip


def generated_customers(
    merchant: Merchant, count: int, *, seed: int | None = None
) -> Iterator[Customer]:
    """``generated_rows`` as unsaved customers, for ``bulk_create``."""
    for row in generated_rows(merchant.pk, count, seed=seed):
        yield Customer(**dict(zip(GENERATED_COLUMNS, row, strict=True)))


def insert_generated_customers(
    merchant: Merchant, count: int, *, seed: int | None = None, progress=None
) -> None:
    """Add ``count`` generated customers to ``merchant`` in bulk, then count them and refresh
    the planner's statistics. PostgreSQL gets them through ``COPY`` (tens of thousands a
    second); other databases through ``bulk_create``. ``progress(n)`` hears of each batch."""
    batch_size = 10_000
    if connection.vendor == "postgresql":
        rows = generated_rows(merchant.pk, count, seed=seed)
        with transaction.atomic():
            # Like a restore: a load that at least doubles the table checks its foreign keys
            # and builds its indexes once, after the rows, rather than row by row. One
            # transaction, so an interrupted load leaves the table as it was, and a row that
            # breaks a constraint undoes the whole load.
            existing = Customer.objects.order_by()[:count].count()
            restore = _drop_foreign_keys_and_indexes() if count >= max(existing, 50_000) else []
            while batch := list(itertools.islice(rows, batch_size)):
                _copy(batch)
                if progress:
                    progress(len(batch))
            with connection.cursor() as cursor:
                if restore:
                    cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")
                for statement in restore:
                    cursor.execute(statement)
    else:
        customers = generated_customers(merchant, count, seed=seed)
        while chunk := list(itertools.islice(customers, batch_size)):
            Customer.objects.bulk_create(chunk)
            if progress:
                progress(len(chunk))
    customer_counts_rebuild(merchant=merchant)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            # Statistics for the planner, and (outside a transaction) the visibility map that
            # lets a deep page be read from the index alone.
            vacuum = "ANALYZE" if connection.in_atomic_block else "VACUUM (ANALYZE)"
            cursor.execute(f"{vacuum} {Customer._meta.db_table}")


def _drop_foreign_keys_and_indexes() -> list[str]:
    """Drop the customers table's foreign keys and its indexes other than the primary key's
    (unique ones included); return the statements that make them again, the foreign keys
    first (each checked in one pass), then the indexes with the statistics target set on any
    of their columns."""
    table = Customer._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT quote_ident(conname), pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conrelid = %s::regclass AND contype = 'f'",
            [table],
        )
        foreign_keys = cursor.fetchall()
        cursor.execute(
            "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid), "
            "  array(SELECT format('ALTER INDEX %%s ALTER COLUMN %%s SET STATISTICS %%s', "
            "               i.indexrelid::regclass, a.attnum, a.attstattarget) "
            "        FROM pg_attribute a "
            "        WHERE a.attrelid = i.indexrelid AND a.attstattarget >= 0) "
            "FROM pg_index i WHERE i.indrelid = %s::regclass AND NOT i.indisprimary "
            "AND NOT EXISTS (SELECT FROM pg_constraint c WHERE c.conindid = i.indexrelid)",
            [table],
        )
        indexes = cursor.fetchall()
        for name, _definition in foreign_keys:
            cursor.execute(f"ALTER TABLE {table} DROP CONSTRAINT {name}")
        for name, _definition, _statistics in indexes:
            cursor.execute(f"DROP INDEX {name}")
    return [
        *(
            f"ALTER TABLE {table} ADD CONSTRAINT {name} {definition}"
            for name, definition in foreign_keys
        ),
        *(
            statement
            for _name, definition, statistics in indexes
            for statement in (definition, *statistics)
        ),
    ]


#: Where ``generated_rows`` puts the JSON columns, written to ``COPY`` as JSON text.
_JSON_POSITIONS = tuple(GENERATED_COLUMNS.index(column) for column in ("address", "metadata"))


def _copy(rows: list[tuple]) -> None:
    """One ``COPY`` of ``rows`` (of ``GENERATED_COLUMNS``) into the customers table."""
    statement = f"COPY {Customer._meta.db_table} ({', '.join(GENERATED_COLUMNS)}) FROM STDIN"
    with transaction.atomic(), connection.cursor() as cursor, cursor.copy(statement) as copy:
        for row in rows:
            values = list(row)
            for position in _JSON_POSITIONS:
                values[position] = orjson.dumps(values[position]).decode()
            copy.write_row(values)
