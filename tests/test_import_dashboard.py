"""The dashboard's Import page through Django's test client, with the task framework's own
worker running the dry run and the import: upload, review, start, progress, summary, rejects."""

import csv
import html
import io
import re
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from customers.models import Customer, CustomerEvent, CustomerImport
from tests.factories import make_customer, make_merchant, make_user
from tests.test_webhooks_delivery import run_worker

IMPORT = reverse("customers:import_create")
IMPORTS = reverse("customers:import_list")

#: A provider's export: its own column names and value shapes, an id column to ignore.
PROVIDER_CSV = (
    "id,name,email,phone_number,city,is_business,blacklist\n"
    "c1,Amadou Ba,amadou@example.com,+221771234567,Dakar,false,false\n"
    "c2,Kofi Mensah,kofi@example.com,,Accra,true,true\n"
    "c3,Nobody,,,Lagos,false,false\n"
    "c4,Ada Again,ada@example.com,,Dakar,false,false\n"
)


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def upload(client, content: str | bytes, name: str = "customers.csv", **data):
    body = content.encode() if isinstance(content, str) else content
    return client.post(IMPORT, {"file": SimpleUploadedFile(name, body), **data})


def stored_files(media_root) -> list[str]:
    return sorted(p.name for p in media_root.rglob("*") if p.is_file())


def csv_rows(response) -> list[list[str]]:
    """The rows of a streamed CSV download (UTF-8 with its BOM)."""
    content = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.reader(io.StringIO(content)))


def page_text(response) -> str:
    """The page's text, as read: tags dropped, spaces collapsed."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", response.content.decode())).split())


# --- the whole journey ----------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_an_editor_uploads_reviews_starts_and_downloads_the_rejects(client, merchant, editor):
    make_customer(merchant, name="Ada Diallo", email="ada@example.com")
    client.force_login(editor)

    response = upload(client, PROVIDER_CSV, name="provider export.csv")
    customer_import = CustomerImport.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("customers:import_detail", args=[customer_import.pk])
    assert (customer_import.status, customer_import.total_rows) == ("validating", 4)
    assert (customer_import.actor, customer_import.file_name) == (
        "user:eddie",
        "provider export.csv",
    )
    waiting = client.get(response["Location"])
    assert waiting["Refresh"] == "2"
    assert "Checking every row" in page_text(waiting)

    run_worker()
    customer_import.refresh_from_db()
    assert customer_import.status == "validated"
    assert (customer_import.would_create, customer_import.would_skip) == (2, 1)
    assert customer_import.would_reject == 1
    assert customer_import.dry_run_rejects == [
        [4, "row 4: email: Give an email address or a phone number (or both)."]
    ]
    assert Customer.objects.filter(merchant=merchant).count() == 1
    review = client.get(response["Location"])
    assert not review.has_header("Refresh")
    text = page_text(review)
    assert "phone_number phone" in text
    assert "city address.city" in text
    assert "id Ignored (not a field a customer is given)" in text
    assert "Would create 2" in text
    assert "Would skip (already customers) 1" in text
    assert "Would reject 1" in text
    assert "4 row 4: email: Give an email address or a phone number (or both)." in text

    started = client.post(reverse("customers:import_start", args=[customer_import.pk]))
    assert started.status_code == 302
    customer_import.refresh_from_db()
    assert customer_import.status == "queued"
    assert client.get(started["Location"])["Refresh"] == "2"

    run_worker()
    customer_import.refresh_from_db()
    assert customer_import.status == "done"
    assert (customer_import.created, customer_import.updated) == (2, 0)
    assert (customer_import.skipped, customer_import.rejected) == (1, 1)
    assert (customer_import.rows_done, customer_import.error) == (4, "")
    assert not customer_import.upload
    amadou = Customer.objects.get(merchant=merchant, email="amadou@example.com")
    assert (amadou.phone, amadou.address, amadou.source) == (
        "+221771234567", {"city": "Dakar"}, "import",
    )  # fmt: skip
    kofi = Customer.objects.get(merchant=merchant, email="kofi@example.com")
    assert (kofi.type, kofi.status) == ("business", "blocked")
    events = CustomerEvent.objects.filter(customer_id__in=[amadou.pk, kofi.pk])
    assert {(e.action, e.source, e.actor) for e in events} == {("created", "import", "user:eddie")}

    done = client.get(started["Location"])
    assert not done.has_header("Refresh")
    text = page_text(done)
    assert "Created 2 Updated 0 Skipped 1 Rejected 1" in text
    assert "Download the rejected rows (CSV)" in text
    assert reverse("customers:list") in done.content.decode()

    rejects = client.get(reverse("customers:import_rejects", args=[customer_import.pk]))
    assert rejects.status_code == 200
    assert rejects["Content-Disposition"] == ('attachment; filename="provider export.rejects.csv"')
    rows = csv_rows(rejects)
    assert rows == [
        ["id", "name", "email", "phone_number", "city", "is_business", "blacklist", "error"],
        ["c3", "Nobody", "", "", "Lagos", "false", "false",
         "row 4: email: Give an email address or a phone number (or both)."],
    ]  # fmt: skip

    listing = page_text(client.get(IMPORTS))
    assert "provider export.csv Done 2 created, 0 updated, 1 skipped, 1 rejected" in listing


@pytest.mark.django_db(transaction=True)
def test_the_rejected_rows_are_told_in_the_language_of_the_imports_author(client, merchant, editor):
    make_customer(merchant, name="Ada Diallo", email="ada@example.com")
    client.force_login(editor)
    french = "ligne 4 : email : Donnez une adresse e-mail ou un numéro de téléphone (ou les deux)."

    response = client.post(
        IMPORT,
        {"file": SimpleUploadedFile("export.csv", PROVIDER_CSV.encode())},
        HTTP_ACCEPT_LANGUAGE="fr",
    )
    customer_import = CustomerImport.objects.get()
    assert customer_import.language == "fr"
    run_worker()  # the worker has no page language of its own: English unless told
    customer_import.refresh_from_db()
    assert customer_import.dry_run_rejects == [[4, french]]
    review = client.get(response["Location"], HTTP_ACCEPT_LANGUAGE="fr")
    assert f"4 {french}" in page_text(review)

    client.post(reverse("customers:import_start", args=[customer_import.pk]))
    run_worker()
    rejects = client.get(reverse("customers:import_rejects", args=[customer_import.pk]))
    rows = csv_rows(rejects)
    assert rows[1][-1] == french
    assert rows[0][-1] == "error"  # the column's name is the file's, in any language


@pytest.mark.django_db(transaction=True)
def test_an_import_with_update_existing_updates_the_matching_customers(client, merchant, editor):
    ada = make_customer(merchant, name="Ada Diallo", email="ada@example.com")
    client.force_login(editor)
    upload(client, "email,city\nada@example.com,Thiès\n", update_existing="on")
    run_worker()
    customer_import = CustomerImport.objects.get()
    assert (customer_import.would_update, customer_import.would_create) == (1, 0)
    client.post(reverse("customers:import_start", args=[customer_import.pk]))
    run_worker()
    customer_import.refresh_from_db()
    ada.refresh_from_db()
    assert (customer_import.status, customer_import.updated) == ("done", 1)
    assert not customer_import.rejects_file
    assert ada.address == {"city": "Thiès"}
    no_rejects = client.get(reverse("customers:import_rejects", args=[customer_import.pk]))
    assert no_rejects.status_code == 404


@pytest.mark.django_db(transaction=True)
def test_an_import_whose_stored_file_is_gone_fails_with_a_message(client, merchant, editor):
    client.force_login(editor)
    upload(client, "email\nawa@example.com\n")
    run_worker()
    customer_import = CustomerImport.objects.get()
    client.post(reverse("customers:import_start", args=[customer_import.pk]))
    customer_import.upload.delete(save=False)

    run_worker()
    customer_import.refresh_from_db()
    assert customer_import.status == "failed"
    assert customer_import.error == "The uploaded file is no longer stored. Upload it again."
    assert customer_import.finished_at is not None
    page = client.get(reverse("customers:import_detail", args=[customer_import.pk]))
    assert not page.has_header("Refresh")
    assert "The import failed. The uploaded file is no longer stored." in page_text(page)
    assert not Customer.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_an_import_stopped_by_an_unexpected_error_is_failed_not_running(
    client, merchant, editor, monkeypatch
):
    from customers import import_jobs

    client.force_login(editor)
    upload(client, "email\nawa@example.com\n")
    run_worker()
    customer_import = CustomerImport.objects.get()
    client.post(reverse("customers:import_start", args=[customer_import.pk]))

    def broken(*args, **kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(import_jobs, "import_rows", broken)
    run_worker()
    customer_import.refresh_from_db()
    assert customer_import.status == "failed"
    assert customer_import.error == "The import stopped on an unexpected error (RuntimeError)."


# --- a worker that stops midway -----------------------------------------------------------------


class WorkerKilled(BaseException):
    """The worker's process ends here (killed, restarted, out of memory): nothing after it
    runs, not even the import's own error handling."""


def rows_of_a_long_file() -> str:
    """2,500 rows (three batches): row 3 rejected, row 2,102 repeating row 2's reference."""
    lines = ["reference,name,email"]
    for n in range(2, 2502):
        email = "not-an-email" if n == 3 else f"c{n}@example.com"
        reference = "r2" if n == 2102 else f"r{n}"
        lines.append(f"{reference},C {n},{email}")
    return "\n".join(lines) + "\n"


def start_validated(client, content: str) -> CustomerImport:
    upload(client, content)
    run_worker()
    customer_import = CustomerImport.objects.get()
    client.post(reverse("customers:import_start", args=[customer_import.pk]))
    return customer_import


def batches_then(monkeypatch, what_next, *, at: int):
    """``import_rows`` sends its batches on until the ``at``-th, which ``what_next`` replaces."""
    from customers import imports

    real, calls = imports.customers_import_batch, []

    def batch(**kwargs):
        calls.append(1)
        if len(calls) == at:
            return what_next(real, kwargs)
        return real(**kwargs)

    monkeypatch.setattr(imports, "customers_import_batch", batch)


def lease_runs_out():
    """The time passes: the stopped worker's lease, and the task scheduled for its end, are due."""
    from django_tasks_db.models import DBTaskResult

    from customers.import_jobs import LEASE

    past = timezone.now() - LEASE - timedelta(seconds=1)
    CustomerImport.objects.update(heartbeat_at=past)
    DBTaskResult.objects.filter(status="READY").update(run_after=timezone.now())


@pytest.mark.django_db(transaction=True)
def test_an_import_whose_worker_dies_is_taken_over_and_finished_exactly_once(
    client, merchant, editor, monkeypatch
):
    client.force_login(editor)
    customer_import = start_validated(client, rows_of_a_long_file())

    def killed(real, kwargs):
        raise WorkerKilled

    batches_then(monkeypatch, killed, at=2)
    run_worker()
    monkeypatch.undo()
    customer_import.refresh_from_db()
    assert (customer_import.status, customer_import.rows_done) == ("running", 1000)
    assert (customer_import.created, customer_import.rejected) == (999, 1)
    assert Customer.objects.filter(merchant=merchant).count() == 999

    run_worker()  # the lease holds: nobody takes the import over yet
    customer_import.refresh_from_db()
    assert (customer_import.status, customer_import.takeovers) == ("running", 0)

    lease_runs_out()
    run_worker()
    customer_import.refresh_from_db()
    assert customer_import.status == "done"
    assert (customer_import.rows_done, customer_import.takeovers) == (2500, 1)
    assert (customer_import.created, customer_import.updated) == (2498, 0)
    assert (customer_import.skipped, customer_import.rejected) == (0, 2)
    assert Customer.objects.filter(merchant=merchant).count() == 2498
    assert CustomerEvent.objects.filter(merchant=merchant).count() == 2498
    rejects = client.get(reverse("customers:import_rejects", args=[customer_import.pk]))
    rows = csv_rows(rejects)
    assert rows == [
        ["reference", "name", "email", "error"],
        ["r3", "C 3", "not-an-email", "row 3: email: Enter a valid email address."],
        ["r2", "C 2102", "c2102@example.com",
         "row 2102: reference: An earlier row of this file has the same reference."],
    ]  # fmt: skip


@pytest.mark.django_db(transaction=True)
def test_a_worker_whose_import_was_taken_over_stops_without_writing_its_batch(
    client, merchant, editor, monkeypatch
):
    from customers import import_jobs

    client.force_login(editor)
    customer_import = start_validated(client, rows_of_a_long_file())

    def taken_over_meanwhile(real, kwargs):
        CustomerImport.objects.update(heartbeat_at=timezone.now() + timedelta(seconds=5))
        return real(**kwargs)

    batches_then(monkeypatch, taken_over_meanwhile, at=2)
    assert import_jobs.run(str(customer_import.pk)) == "taken over by another worker"
    customer_import.refresh_from_db()
    assert (customer_import.status, customer_import.rows_done) == ("running", 1000)
    assert Customer.objects.filter(merchant=merchant).count() == 999


@pytest.mark.django_db(transaction=True)
def test_an_import_whose_worker_keeps_dying_fails_saying_how_far_it_got(client, editor):
    from customers.import_jobs import MAX_TAKEOVERS

    client.force_login(editor)
    customer_import = start_validated(client, "email\nawa@example.com\n")
    CustomerImport.objects.update(status="running", rows_done=1000, takeovers=MAX_TAKEOVERS)
    lease_runs_out()
    run_worker()
    customer_import.refresh_from_db()
    assert customer_import.status == "failed"
    assert customer_import.error == (
        "The import stopped unexpectedly after 1000 rows; re-run it: rows already imported "
        "are skipped."
    )
    assert customer_import.finished_at is not None
    assert not Customer.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_a_validation_whose_worker_died_starts_again_once_its_lease_runs_out(client, editor):
    client.force_login(editor)
    upload(client, "email,name\nawa@example.com,Awa\n")
    customer_import = CustomerImport.objects.get()
    CustomerImport.objects.update(heartbeat_at=timezone.now())  # a worker holds it, then dies

    run_worker()
    customer_import.refresh_from_db()
    assert customer_import.status == "validating"

    lease_runs_out()
    run_worker()
    customer_import.refresh_from_db()
    assert (customer_import.status, customer_import.would_create) == ("validated", 1)
    assert (customer_import.takeovers, customer_import.heartbeat_at) == (1, None)


# --- the upload -----------------------------------------------------------------------------


@pytest.mark.django_db
def test_an_unknown_column_is_refused_on_the_form_and_nothing_is_kept(client, editor, media_root):
    client.force_login(editor)
    response = upload(client, "name,emial\nAwa,awa@example.com\n")
    assert response.status_code == 200
    assert response.context["form"].errors == {
        "file": ["The file cannot be imported:", "Unknown column “emial”; did you mean “email”?"]
    }
    assert "did you mean “email”?" in response.content.decode()
    assert not CustomerImport.objects.exists()
    assert stored_files(media_root) == []


@pytest.mark.django_db
@pytest.mark.parametrize(
    "name, content, message",
    [
        ("empty.csv", b"", "The file is empty (0 bytes): nothing to import."),
        ("latin1.csv", "name,email\nRené,r@example.com\n".encode("latin-1"),
         "The file is not UTF-8 text (byte 0xe9 on line 2). Save it as UTF-8 (in Excel: CSV "
         "UTF-8) and import it again."),
        ("customers.pdf", b"%PDF", "customers.pdf: unknown format; use .csv, .jsonl, .ndjson, "
         ".txt, .xlsx."),
    ],
)  # fmt: skip
def test_a_file_that_cannot_be_read_is_refused_on_the_form(
    client, editor, media_root, name, content, message
):
    client.force_login(editor)
    response = upload(client, content, name=name)
    assert response.status_code == 200
    assert response.context["form"].errors == {"file": [message]}
    assert not CustomerImport.objects.exists()
    assert stored_files(media_root) == []


@pytest.mark.django_db
def test_a_file_over_the_size_limit_is_refused(client, editor, settings, media_root):
    settings.IMPORT_MAX_UPLOAD_BYTES = 1024 * 1024
    client.force_login(editor)
    response = upload(client, "email\n" + "awa@example.com\n" * 70_000)
    assert response.status_code == 200
    assert response.context["form"].errors == {
        "file": ["The file is larger than 1 MB; split it into smaller files."]
    }
    assert stored_files(media_root) == []


@pytest.mark.django_db
def test_a_post_without_a_file_asks_for_one(client, editor):
    client.force_login(editor)
    response = client.post(IMPORT, {})
    assert response.context["form"].errors == {"file": ["Choose a file to import."]}


@pytest.mark.django_db
def test_a_user_of_several_merchants_chooses_where_to_import(client, merchant, other_merchant):
    user = make_user(merchant, other_merchant, group="Editor")
    client.force_login(user)
    refused = upload(client, "email\nawa@example.com\n")
    assert refused.context["form"].errors == {"merchant": ["This field is required."]}
    upload(client, "email\nawa@example.com\n", merchant=other_merchant.pk)
    assert CustomerImport.objects.get().merchant == other_merchant


@pytest.mark.django_db
def test_the_upload_is_stored_under_imports_and_its_dry_run_queued(client, editor, merchant):
    from django_tasks_db.models import DBTaskResult

    client.force_login(editor)
    upload(client, "email\nawa@example.com\n")
    customer_import = CustomerImport.objects.get()
    assert customer_import.upload.name == f"imports/{merchant.pk}/{customer_import.pk}.csv"
    assert customer_import.columns == [["email", "email"]]
    task = DBTaskResult.objects.get()
    assert (task.task_path, task.args_kwargs["args"]) == (
        "customers.tasks.validate_import", [str(customer_import.pk)],
    )  # fmt: skip


@pytest.mark.django_db
def test_cancel_forgets_the_import_and_its_file(client, editor, media_root):
    client.force_login(editor)
    upload(client, "email\nawa@example.com\n")
    customer_import = CustomerImport.objects.get()
    assert stored_files(media_root) != []
    response = client.post(reverse("customers:import_cancel", args=[customer_import.pk]))
    assert response["Location"] == IMPORT
    assert not CustomerImport.objects.exists()
    assert stored_files(media_root) == []


@pytest.mark.django_db
def test_a_started_import_cannot_be_started_again_or_cancelled(client, editor):
    client.force_login(editor)
    upload(client, "email\nawa@example.com\n")
    customer_import = CustomerImport.objects.get()
    CustomerImport.objects.filter(pk=customer_import.pk).update(status="running")
    start = client.post(reverse("customers:import_start", args=[customer_import.pk]), follow=True)
    assert [str(m) for m in start.context["messages"]] == ["This import has already been started."]
    cancel = client.post(reverse("customers:import_cancel", args=[customer_import.pk]))
    assert cancel.status_code == 302
    assert CustomerImport.objects.filter(status="running").exists()


# --- the progress ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_status_url_and_the_bar_say_how_far_the_import_is(client, editor):
    client.force_login(editor)
    upload(client, "email\nawa@example.com\nbob@example.com\n")
    customer_import = CustomerImport.objects.get()
    CustomerImport.objects.filter(pk=customer_import.pk).update(
        status="running", rows_done=1, created=1
    )
    status = client.get(reverse("customers:import_status", args=[customer_import.pk]))
    assert status.json() == {
        "status": "running", "status_label": "Running", "in_progress": True, "rows_done": 1,
        "total_rows": 2, "percent": 50, "created": 1, "updated": 0, "skipped": 0, "rejected": 0,
    }  # fmt: skip
    page = client.get(reverse("customers:import_detail", args=[customer_import.pk]))
    assert '<progress id="import-progress"' in page.content.decode()
    assert 'max="2"' in page.content.decode() and 'value="1"' in page.content.decode()
    assert page["Refresh"] == "2"


@pytest.mark.django_db
def test_a_browser_running_the_script_polls_instead_of_reloading(client, editor):
    client.force_login(editor)
    upload(client, "email\nawa@example.com\n")
    customer_import = CustomerImport.objects.get()
    client.cookies["js"] = "1"
    page = client.get(reverse("customers:import_detail", args=[customer_import.pk]))
    assert not page.has_header("Refresh")
    assert "data-import-progress" in page.content.decode()


# --- who may -----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_viewer_may_not_import_and_sees_no_link(client, merchant, editor, viewer):
    client.force_login(editor)
    upload(client, "email\nawa@example.com\n")
    customer_import = CustomerImport.objects.get()
    client.force_login(viewer)
    assert f'href="{IMPORT}"' not in client.get(reverse("customers:list")).content.decode()
    for name in ["import_detail", "import_status", "import_rejects"]:
        assert (
            client.get(reverse(f"customers:{name}", args=[customer_import.pk])).status_code == 403
        )
    for url in [IMPORT, IMPORTS]:
        assert client.get(url).status_code == 403
    assert upload(client, "email\nbob@example.com\n").status_code == 403
    for name in ["import_start", "import_cancel"]:
        assert (
            client.post(reverse(f"customers:{name}", args=[customer_import.pk])).status_code == 403
        )
    assert CustomerImport.objects.get().status == "validating"


@pytest.mark.django_db
def test_an_editor_sees_the_import_link(client, editor):
    client.force_login(editor)
    assert f'href="{IMPORT}"' in client.get(reverse("customers:list")).content.decode()


@pytest.mark.django_db
def test_another_merchants_import_is_not_found(client, editor, other_merchant):
    stranger = make_user(other_merchant, group="Editor")
    client.force_login(stranger)
    upload(client, "email\nawa@example.com\n")
    theirs = CustomerImport.objects.get()
    client.force_login(editor)
    for name in ["import_detail", "import_status", "import_rejects"]:
        assert client.get(reverse(f"customers:{name}", args=[theirs.pk])).status_code == 404
    for name in ["import_start", "import_cancel"]:
        assert client.post(reverse(f"customers:{name}", args=[theirs.pk])).status_code == 404
    assert "customers.csv" not in client.get(IMPORTS).content.decode()
    assert CustomerImport.objects.get().status == "validating"


@pytest.mark.django_db
def test_anonymous_users_are_sent_to_log_in(client):
    response = client.get(IMPORT)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.django_db
def test_the_list_costs_the_same_queries_whatever_the_number_of_imports(
    client, merchant, django_assert_max_num_queries
):
    other = make_merchant()
    user = make_user(merchant, other, group="Editor")
    client.force_login(user)
    for n in range(12):
        CustomerImport.objects.create(
            merchant=merchant if n % 2 else other,
            uploaded_by=make_user(merchant),
            actor="user:someone",
            file_name=f"file{n}.csv",
            status="done",
            created=n,
        )
    # Session and user, permissions, merchants, the count and the page (with their merchants
    # and uploaders joined).
    with django_assert_max_num_queries(7):
        response = client.get(IMPORTS)
    assert response.status_code == 200
    assert page_text(response).count(" Done ") == 12
    assert "file0.csv" in page_text(response)
