from django.core.management.base import BaseCommand, CommandError

from customers.models import Merchant
from customers.services import customer_counts_rebuild


class Command(BaseCommand):
    help = (
        "Rebuild the kept customer counts (the lists' totals) from the customers themselves. "
        "The services keep them exact; this is for after a restore or a manual change to the "
        "database. Writes wait while it counts."
    )

    def add_arguments(self, parser):
        parser.add_argument("--merchant", help="Only this merchant's (its slug); default: all.")

    def handle(self, *args, merchant, **options):
        merchant_obj = None
        if merchant:
            try:
                merchant_obj = Merchant.objects.get(slug=merchant)
            except Merchant.DoesNotExist:
                raise CommandError(f"No merchant with slug {merchant!r}.") from None
        counted = customer_counts_rebuild(merchant=merchant_obj)
        whose = f" of {merchant_obj.slug}" if merchant_obj else ""
        self.stdout.write(f"Counted {counted} customers{whose}.")
