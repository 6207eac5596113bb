"""Demo data drawn from the payment providers' own examples (Dakar, Lagos, Accra, Nairobi…),
and a generator of realistic customers in bulk for load and speed checks."""

import random
import secrets
import unicodedata
from collections.abc import Iterator
from datetime import timedelta

from django.utils import timezone

from .ids import uuid7
from .models import Customer, Merchant

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


def generated_customers(
    merchant: Merchant, count: int, *, seed: int | None = None
) -> Iterator[Customer]:
    """``count`` valid, already-normalised customers (E.164 phones, ISO codes, unique emails
    within this batch), created over the last two years; for bulk inserts."""
    rng = random.Random(seed)
    batch = secrets.token_hex(3)
    now = timezone.now()
    for n in range(count):
        country, dial, currency, cities, prefixes, digits = rng.choice(_REGIONS)
        first, last = rng.choice(_FIRST_NAMES), rng.choice(_LAST_NAMES)
        phone = f"+{dial}{rng.choice(prefixes)}{rng.randrange(10**digits):0{digits}d}"
        business = rng.random() < 0.1
        name = f"{last} {rng.choice(['Trading', 'Services', 'Foods', 'Tech'])}" if business else ""
        created = now - timedelta(seconds=rng.randrange(2 * 365 * 24 * 3600))
        yield Customer(
            id=uuid7(),
            merchant=merchant,
            reference=f"gen-{batch}-{n}",
            type="business" if business else "individual",
            name=name or f"{first} {last}",
            first_name="" if business else first,
            last_name="" if business else last,
            company=name,
            email=_ascii(f"{first}.{last}.{batch}{n}@example.com".lower()),
            phone=phone,
            country=country,
            currency=currency,
            address={"city": rng.choice(cities)},
            status=rng.choice(_STATUSES),
            metadata={"segment": rng.choice(["retail", "sme", "vip"])},
            source=Customer.Source.IMPORT,
            created_by="seed_demo",
            created_at=created,
            updated_at=created,
        )
