from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from customers.models import ApiKey, Merchant
from customers.services import api_key_create


class Command(BaseCommand):
    help = (
        "Create an API key for a merchant. The key is printed once, alone on the last line; "
        "only its hash is stored."
    )

    def add_arguments(self, parser):
        parser.add_argument("--merchant", required=True, help="The merchant's slug.")
        parser.add_argument("--name", required=True, help="What the key is for.")
        parser.add_argument(
            "--scopes",
            default=",".join(ApiKey.DEFAULT_SCOPES),
            help=(
                f"Comma-separated, among {','.join(ApiKey.Scope.values)} "
                f"(default: {','.join(ApiKey.DEFAULT_SCOPES)})."
            ),
        )

    def handle(self, *args, merchant, name, scopes, **options):
        try:
            merchant_obj = Merchant.objects.get(slug=merchant)
        except Merchant.DoesNotExist:
            raise CommandError(f"No merchant with slug {merchant!r}.") from None
        scope_list = [scope.strip() for scope in scopes.split(",") if scope.strip()]
        try:
            api_key, raw_key = api_key_create(merchant=merchant_obj, name=name, scopes=scope_list)
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from None
        self.stdout.write(
            f"Created API key {api_key.name!r} for {merchant_obj.slug} "
            f"with scopes {', '.join(api_key.scopes)}. Store it now: it is not shown again."
        )
        self.stdout.write(raw_key)
