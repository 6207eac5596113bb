import secrets
import time

from django.contrib.auth.models import Group, User
from django.core.management.base import BaseCommand
from tqdm import tqdm

from customers.demo import DEMO_CUSTOMERS, insert_generated_customers
from customers.models import ApiKey, Customer, Membership, Merchant
from customers.services import api_key_create, api_key_revoke, customer_create

DEMO_SLUG = "demo"
DEMO_USERNAME = "demo"
DEMO_KEY_NAME = "Demo key"


class Command(BaseCommand):
    help = (
        "Create (or refresh) a demo merchant with customers from the providers' examples, a "
        "staff login and an API key. Safe to re-run. --customers N adds N generated customers."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--customers",
            type=int,
            default=0,
            metavar="N",
            help="Also generate N realistic customers with bulk inserts (e.g. 1000000).",
        )
        parser.add_argument("--base-url", default="http://127.0.0.1:8000")
        parser.add_argument("--password", help="The demo user's password (default: random).")

    def handle(self, *args, customers, base_url, password, **options):
        merchant, _ = Merchant.objects.get_or_create(
            slug=DEMO_SLUG, defaults={"name": "Teranga Market"}
        )
        created = self._demo_customers(merchant)
        self.stdout.write(
            f"Demo merchant {merchant.name!r} (slug {merchant.slug}): "
            f"{len(DEMO_CUSTOMERS)} demo customers, {created} new."
        )
        if customers > 0:
            self._generate(merchant, customers)

        password = password or secrets.token_urlsafe(9)
        user = self._demo_user(merchant, password)
        raw_key = self._demo_key(merchant, user)
        base_url = base_url.rstrip("/")
        self.stdout.write("")
        self.stdout.write(self.style.SUCCESS("Ready."))
        self.stdout.write(f"  Dashboard: {base_url}/   (log in at {base_url}/accounts/login/)")
        self.stdout.write(f"  Admin:     {base_url}/admin/")
        self.stdout.write(f"  API docs:  {base_url}/api/docs")
        self.stdout.write(f"  Username:  {user.username}")
        self.stdout.write(f"  Password:  {password}")
        self.stdout.write(f"  API key:   {raw_key}")
        self.stdout.write(
            f"  Try:       curl -H 'Authorization: Bearer {raw_key}' {base_url}/api/v1/customers"
        )

    def _demo_customers(self, merchant: Merchant) -> int:
        existing = set(
            Customer.objects.filter(merchant=merchant, reference__startswith="demo-").values_list(
                "reference", flat=True
            )
        )
        created = 0
        for fields in DEMO_CUSTOMERS:
            if fields["reference"] not in existing:
                customer_create(merchant=merchant, actor="seed_demo", source="import", **fields)
                created += 1
        return created

    def _generate(self, merchant: Merchant, count: int) -> None:
        started = time.monotonic()
        with tqdm(total=count, unit=" customers", disable=None) as progress:
            insert_generated_customers(merchant, count, progress=progress.update)
        elapsed = time.monotonic() - started
        self.stdout.write(
            f"Generated {count} customers in {elapsed:.1f} s ({count / elapsed:,.0f}/s)."
        )

    def _demo_user(self, merchant: Merchant, password: str) -> User:
        user, _ = User.objects.get_or_create(
            username=DEMO_USERNAME,
            defaults={"first_name": "Demo", "last_name": "Staff", "email": "demo@example.com"},
        )
        user.is_staff = True
        user.is_active = True
        user.set_password(password)
        user.save()
        user.groups.add(Group.objects.get(name="Manager"))
        Membership.objects.get_or_create(user=user, merchant=merchant)
        return user

    def _demo_key(self, merchant: Merchant, user: User) -> str:
        # A secret is shown only once, so each run issues a new key and revokes the old ones.
        for old in ApiKey.objects.filter(merchant=merchant, name=DEMO_KEY_NAME, revoked_at=None):
            api_key_revoke(api_key=old)
        _, raw_key = api_key_create(
            merchant=merchant, name=DEMO_KEY_NAME, scopes=ApiKey.Scope.values, created_by=user
        )
        return raw_key
