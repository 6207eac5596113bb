import time
from typing import IO, cast

from django.core.management.base import BaseCommand, CommandError
from django.http import QueryDict

from customers.csvio import write_csv, write_jsonl
from customers.filtersets import CustomerFilterSet, unknown_parameter_message
from customers.models import Customer, Merchant


class Command(BaseCommand):
    help = (
        "Export a merchant's customers as CSV (the import's columns, UTF-8 with a BOM) or JSON "
        "Lines, streamed. --filter takes the API list's query string, e.g. "
        "'status=blocked&country=SN'."
    )

    def add_arguments(self, parser):
        parser.add_argument("--merchant", required=True, metavar="SLUG")
        parser.add_argument("--filter", default="", metavar="QUERY")
        parser.add_argument("--output", metavar="FILE", help="Default: the standard output.")
        parser.add_argument("--format", choices=["csv", "jsonl"], default=None)

    def handle(self, *args, merchant, filter, output, format, **options):
        try:
            merchant_obj = Merchant.objects.get(slug=merchant)
        except Merchant.DoesNotExist:
            raise CommandError(f"No merchant with slug {merchant!r}.") from None
        fmt = format or ("jsonl" if output and output.endswith((".jsonl", ".ndjson")) else "csv")
        data = QueryDict(filter.lstrip("?"))
        known = set(CustomerFilterSet.base_filters)
        unknown = [name for name in data if name not in known]
        if unknown:
            raise CommandError(
                f"--filter {unknown[0]}: {unknown_parameter_message(unknown[0], known)}"
            )
        filterset = CustomerFilterSet(data, queryset=Customer.objects.filter(merchant=merchant_obj))
        if not filterset.is_valid():
            problems = "; ".join(
                f"{name}: {' '.join(messages)}" for name, messages in filterset.errors.items()
            )
            raise CommandError(f"--filter: {problems}")
        write = write_jsonl if fmt == "jsonl" else write_csv
        started = time.monotonic()
        if output:
            with open(output, "w", encoding="utf-8", newline="") as out:
                count = write(filterset.qs, out)
        else:
            # The standard output of a command is text: the rows go through it as they come.
            count = write(filterset.qs, cast(IO[str], self.stdout._out))
        elapsed = time.monotonic() - started
        rate = f" in {elapsed:.1f} s ({count / elapsed:,.0f} rows/s)" if elapsed else ""
        self.stderr.write(f"Exported {count} customers{f' to {output}' if output else ''}{rate}.")
