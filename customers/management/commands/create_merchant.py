from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from customers.services import merchant_create


class Command(BaseCommand):
    help = "Create a merchant (a tenant) and print its id and slug."

    def add_arguments(self, parser):
        parser.add_argument("name", help="The merchant's name, e.g. 'Teranga Market'.")
        parser.add_argument("--slug", default="", help="URL-safe id; derived from the name.")

    def handle(self, *args, name, slug, **options):
        try:
            merchant = merchant_create(name=name, slug=slug)
        except ValidationError as error:
            raise CommandError(_describe(error)) from None
        self.stdout.write(f"Created merchant {merchant.name!r}.")
        self.stdout.write(f"id:   {merchant.pk}")
        self.stdout.write(f"slug: {merchant.slug}")


def _describe(error: ValidationError) -> str:
    return "; ".join(f"{field}: {' '.join(msgs)}" for field, msgs in error.message_dict.items())
