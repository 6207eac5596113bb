import os
import sys
import time

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from customers.imports import ImportRefused, ImportSummary, import_rows, map_columns, read_file
from customers.models import Merchant

#: From this many rows on, a file is validated by worker processes unless --workers says
#: otherwise: below, starting them costs more than they save.
PARALLEL_FROM = 20_000
#: Workers by default at most: each holds Django (about 70 MB).
MAX_WORKERS = 4


class Command(BaseCommand):
    help = (
        "Import customers into a merchant from a CSV (UTF-8, ',' or ';'), JSON Lines or XLSX "
        "file, with the API's column names or the payment providers' ones. Rows that match an "
        "existing customer (reference, else email, else phone) are skipped, or updated with "
        "--update-existing; rejected rows go to FILE.rejects.csv. Safe to re-run."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", metavar="FILE")
        parser.add_argument("--merchant", required=True, metavar="SLUG")
        parser.add_argument(
            "--dry-run", action="store_true", help="Check every row; write nothing."
        )
        parser.add_argument(
            "--workers",
            type=int,
            metavar="N",
            help=(
                "Validate the rows in N processes of their own while this one writes "
                f"(0: in this one). Default: one per CPU but one, at most {MAX_WORKERS}, for a "
                f"file of {PARALLEL_FROM:,} rows or more."
            ),
        )
        parser.add_argument(
            "--update-existing",
            action="store_true",
            help="Update the customers that rows match instead of skipping them.",
        )

    def handle(self, *args, file, merchant, dry_run, update_existing, workers, **options):
        try:
            merchant_obj = Merchant.objects.get(slug=merchant)
        except Merchant.DoesNotExist:
            raise CommandError(f"No merchant with slug {merchant!r}.") from None
        try:
            table = read_file(file)
            columns = map_columns(table.header)
        except ImportRefused as error:
            raise CommandError(f"{file}: {error}") from None
        mapped = ", ".join(
            name if name == target else f"{name} → {target}"
            for _, name, target, _ in columns.columns
        )
        self.stdout.write(f"Columns: {mapped}.")
        if columns.ignored:
            self.stdout.write(f"Ignored (not writable): {', '.join(columns.ignored)}.")
        if workers is None:
            # One core stays with this process (and the database's own work).
            cores = os.cpu_count() or 1
            workers = min(MAX_WORKERS, max(1, cores - 1)) if table.total >= PARALLEL_FROM else 0
        if workers < 0:
            raise CommandError("--workers takes 0 or more.")
        summary = ImportSummary()
        started = time.monotonic()
        interrupted = None
        # A bar only on a terminal; rows/s and the time left as it goes.
        with tqdm(
            total=table.total,
            unit=" rows",
            disable=None,
            file=sys.stderr,
            dynamic_ncols=True,
        ) as bar:
            try:
                import_rows(
                    merchant_obj,
                    table,
                    columns,
                    actor=f"import:{os.path.basename(file)}",
                    dry_run=dry_run,
                    update_existing=update_existing,
                    rejects_path=f"{file}.rejects.csv",
                    progress=bar.update,
                    summary=summary,
                    workers=workers,
                )
            except ImportRefused as error:
                interrupted = str(error)
            except KeyboardInterrupt:
                interrupted = "Interrupted."
        elapsed = time.monotonic() - started
        for _number, text in summary.rejects:
            self.stdout.write(f"  {text}")
        if summary.rejected > len(summary.rejects):
            self.stdout.write(f"  … and {summary.rejected - len(summary.rejects)} more.")
        rate = f" in {elapsed:.1f} s ({summary.read / elapsed:,.0f} rows/s)" if elapsed else ""
        prefix = "Dry run, nothing written: " if dry_run else ""
        self.stdout.write(f"{prefix}{summary.line()[:-1]}{rate}.")
        if summary.rejects_path:
            self.stdout.write(f"Rejected rows: {summary.rejects_path}")
        if interrupted:
            raise CommandError(
                f"{interrupted} The batches above were committed; run the same file again to "
                "go on (nothing is created twice)."
            )
