"""``import_customers`` and ``export_customers``: every format, each provider's column names
and value shapes, the rejects file, re-runs, and an export that imports unchanged."""

import csv
import datetime
import io
import itertools
import json
from io import StringIO

import openpyxl
import pytest
from django.core.management import CommandError, call_command

from customers.csvio import EXPORT_COLUMNS
from customers.models import Customer, CustomerCount, CustomerEvent
from tests.factories import make_customer, make_merchant

pytestmark = pytest.mark.django_db


def run(*args) -> list[str]:
    out = StringIO()
    call_command(*args, stdout=out, stderr=StringIO())
    return out.getvalue().splitlines()


def write_csv(path, rows, *, delimiter=",", bom=False):
    text = io.StringIO()
    csv.writer(text, delimiter=delimiter).writerows(rows)
    path.write_text(("\ufeff" if bom else "") + text.getvalue(), encoding="utf-8")
    return path


def write_jsonl(path, objects):
    path.write_text("".join(json.dumps(o) + "\n" for o in objects), encoding="utf-8")
    return path


def write_xlsx(path, rows):
    workbook = openpyxl.Workbook()
    for row in rows:
        workbook.active.append(row)
    workbook.save(path)
    return path


def imported(merchant, path, *options):
    return run("import_customers", str(path), "--merchant", merchant.slug, *options)


def customer(merchant, **lookup) -> Customer:
    return Customer.objects.get(merchant=merchant, **lookup)


# --- each provider's names and shapes ------------------------------------------------------------


def test_provider_one_csv_with_phone_number_city_address_string_and_is_business(merchant, tmp_path):
    path = write_csv(
        tmp_path / "p1.csv",
        [
            ["name", "email", "phone_number", "whatsapp_number", "country", "city", "address",
             "postal_code", "is_business", "metadata"],
            ["Amadou Ba", "amadou.ba@example.com", "+221771234567", "+221771234567", "Senegal",
             "Dakar", "123 Main St", "10200", "false", '{"segment": "retail"}'],
        ],
    )  # fmt: skip
    lines = imported(merchant, path)
    amadou = customer(merchant, email="amadou.ba@example.com")
    assert (amadou.phone, amadou.whatsapp, amadou.country, amadou.type) == (
        "+221771234567", "+221771234567", "SN", "individual",
    )  # fmt: skip
    assert amadou.address == {"line1": "123 Main St", "city": "Dakar", "postal_code": "10200"}
    assert amadou.metadata == {"segment": "retail"}
    assert amadou.source == "import"
    assert lines[-1].startswith("1 rows read: 1 created, 0 updated, 0 skipped, 0 rejected")


def test_provider_two_jsonl_with_customer_type_reference_blacklist_and_metadata_text(
    merchant, tmp_path
):
    path = write_jsonl(
        tmp_path / "p2.jsonl",
        [
            {"first_name": "Kwame", "last_name": "Mensah", "email": "kwame@example.com",
             "phone": "+233249998888", "customer_type": "business", "reference": "gh-1",
             "blacklist": True, "metadata": "{}", "is_active": False},
        ],
    )  # fmt: skip
    # blacklist and is_active both say the status: the file says which once.
    with pytest.raises(CommandError, match="both give status"):
        imported(merchant, path)
    path = write_jsonl(
        tmp_path / "p2.jsonl",
        [
            {"first_name": "Kwame", "last_name": "Mensah", "email": "kwame@example.com",
             "phone": "+233249998888", "customer_type": "business", "reference": "gh-1",
             "blacklist": True, "metadata": "{\"kyc_level\": 2}"},
        ],
    )  # fmt: skip
    imported(merchant, path)
    kwame = customer(merchant, reference="gh-1")
    assert (kwame.name, kwame.type, kwame.status) == ("Kwame Mensah", "business", "blocked")
    assert kwame.metadata == {"kyc_level": 2}


def test_provider_three_semicolon_csv_with_bom_and_its_fields(merchant, tmp_path):
    path = write_csv(
        tmp_path / "p3.csv",
        [
            ["name", "email", "phone", "country", "currency", "company", "address", "city",
             "state", "website", "type", "active"],
            ["John Doe", "john@example.com", "+254712345678", "Kenya", "kes", "Doe Enterprises",
             "123 Nairobi St", "Nairobi", "Nairobi County", "https://doe.example.com", "business",
             "true"],
        ],
        delimiter=";",
        bom=True,
    )  # fmt: skip
    imported(merchant, path)
    john = customer(merchant, email="john@example.com")
    assert (john.country, john.currency, john.company, john.type, john.status) == (
        "KE", "KES", "Doe Enterprises", "business", "active",
    )  # fmt: skip
    assert john.address == {"line1": "123 Nairobi St", "city": "Nairobi", "state": "Nairobi County"}


def test_provider_four_jsonl_with_a_nested_billing_address_and_zip_code(merchant, tmp_path):
    path = write_jsonl(
        tmp_path / "p4.jsonl",
        [
            {"first_name": "James", "last_name": "Okafor", "email": "james@example.com",
             "phone": "+2348012345678", "type": "individual", "status": "pending_kyc",
             "billing_address": {"line1": "123 Test Lane", "line2": "Suite 456", "city": "Lagos",
                                 "state": "Lagos", "zip_code": "100001", "country": "NG"}},
        ],
    )  # fmt: skip
    imported(merchant, path)
    james = customer(merchant, email="james@example.com")
    assert (james.name, james.country, james.status) == ("James Okafor", "NG", "pending_kyc")
    assert james.address == {
        "line1": "123 Test Lane", "line2": "Suite 456", "city": "Lagos", "state": "Lagos",
        "postal_code": "100001",
    }  # fmt: skip


def test_provider_five_xlsx_with_external_id_and_upper_case_status(merchant, tmp_path):
    path = write_xlsx(
        tmp_path / "p5.xlsx",
        [
            ["email", "name", "phone", "externalId", "description", "currency", "status",
             "metadata", "createdAt"],
            ["yaw@example.com", "Yaw Mensah", "+233249998888", "user_db_yaw123",
             "Enterprise API User", "GHS", "BLOCKED", None, "2026-06-05T12:00:00Z"],
        ],
    )  # fmt: skip
    lines = imported(merchant, path)
    yaw = customer(merchant, reference="user_db_yaw123")
    assert (yaw.email, yaw.status, yaw.currency, yaw.description) == (
        "yaw@example.com", "blocked", "GHS", "Enterprise API User",
    )  # fmt: skip
    assert "Ignored (not writable): createdAt." in lines


# --- the file refused ----------------------------------------------------------------------------


def test_an_unknown_column_refuses_the_file_naming_it_with_a_did_you_mean(merchant, tmp_path):
    path = write_csv(tmp_path / "c.csv", [["name", "emial"], ["Ada", "ada@example.com"]])
    with pytest.raises(CommandError, match="Unknown column “emial”; did you mean “email”"):
        imported(merchant, path)
    assert not Customer.objects.exists()


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("empty.csv", b"", "The file is empty"),
        ("header.csv", b"name,email\r\n", "a header but no rows"),
        ("latin.csv", "name,email\nRené,rene@example.com\n".encode("latin-1"), "not UTF-8"),
        ("twice.csv", b"email,Email\na@example.com,b@example.com\n", "appears twice"),
        ("broken.xlsx", b"PK\x03\x04 truncated", "not a readable XLSX"),
        ("c.pdf", b"%PDF", "unknown format"),
    ],
)
def test_a_file_that_cannot_be_read_is_refused_with_a_clear_message(
    merchant, tmp_path, name, content, message
):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(CommandError, match=message):
        imported(merchant, path)
    assert not Customer.objects.exists()


#: Files that are not UTF-8, each with the line its first such byte is on.
NOT_UTF8 = [
    ("latin.csv", "name,email\nRené,rene@example.com\n".encode("latin-1"), 2),
    ("windows.csv", "name,email\r\nAda,ada@example.com\r\nRené,r@example.com\r\n"
     .encode("cp1252"), 3),
    ("mac.csv", "name,email\rAda,ada@example.com\rRené,r@example.com\r".encode("mac-roman"), 3),
    # Far down the file: the first block read ends between a CR and its LF.
    ("long.csv", b"name,email,city\r\n" + b"Ada,ada@example.com\r\n" * 5000
     + "René,r@example.com\r\n".encode("latin-1"), 5002),
    ("lines.jsonl", b'{"name": "Ada"}\n' + '{"name": "René"}\n'.encode("latin-1"), 2),
    ("utf16.csv", "name,email\n".encode("utf-16"), 1),
    # Cut short in the middle of a character.
    ("cut.csv", b"name,email\nAda,ada@example.com\nRen\xc3", 3),
    ("cut.jsonl", b'{"name": "Ada"}\n{"name": "Bo"}\xc3', 2),
]  # fmt: skip


@pytest.mark.parametrize(
    ("name", "content", "line"), NOT_UTF8, ids=[name for name, _, _ in NOT_UTF8]
)
def test_a_file_that_is_not_utf8_is_refused_naming_the_byte_and_its_line(
    merchant, tmp_path, name, content, line
):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(CommandError) as refused:
        imported(merchant, path)
    byte = next(b for b in content if b > 0x7F)
    assert f"The file is not UTF-8 text (byte 0x{byte:02x} on line {line})." in str(refused.value)
    assert not Customer.objects.exists()


def test_xlsx_cells_are_read_as_the_spreadsheet_shows_them(merchant, tmp_path):
    path = write_xlsx(
        tmp_path / "cells.xlsx",
        [
            ["name", "phone", "country", "metadata.since", "metadata.called", "metadata.tier",
             "is_business"],
            ["Awa", 221771234567, "Senegal", datetime.date(2024, 1, 5),
             datetime.datetime(2024, 1, 5, 14, 30), 2.0, True],
        ],
    )  # fmt: skip
    imported(merchant, path)
    awa = customer(merchant, name="Awa")
    assert (awa.phone, awa.country, awa.type) == ("+221771234567", "SN", "business")
    assert awa.metadata == {"since": "2024-01-05", "called": "2024-01-05T14:30:00", "tier": 2}


def test_a_truncated_xlsx_is_refused_before_anything_is_written(merchant, tmp_path):
    path = write_xlsx(tmp_path / "t.xlsx", [["email"], *[[f"c{n}@example.com"] for n in range(50)]])
    data = path.read_bytes()
    path.write_bytes(data[: len(data) * 2 // 3])
    with pytest.raises(CommandError, match="not a readable XLSX"):
        imported(merchant, path)
    assert not Customer.objects.exists()


# --- rows rejected, re-runs, updates ----------------------------------------------------------


def test_bad_and_repeated_rows_go_to_the_rejects_file_and_the_rest_is_imported(merchant, tmp_path):
    make_customer(merchant, email="taken@example.com", name="Taken")
    path = write_csv(
        tmp_path / "r.csv",
        [
            ["reference", "name", "email", "phone_number"],
            ["r1", "Ada", "ada@example.com", ""],
            ["r2", "Bad Mail", "not-an-email", ""],
            ["r3", "Ada Again", "ADA@example.com", ""],
            ["r1", "Same Ref", "other@example.com", ""],
            ["r5", "Formula", "=HYPERLINK(1)", ""],
            ["r6", "Taken", "taken@example.com", ""],
            ["", "No Contact", "", ""],
            ["r8", "Phone Only", "", "+221 77 123 45 67"],
        ],
    )
    lines = imported(merchant, path)
    assert lines[-2].startswith("8 rows read: 2 created, 0 updated, 0 skipped, 6 rejected")
    with open(f"{path}.rejects.csv", encoding="utf-8-sig", newline="") as rejects:
        rows = list(csv.reader(rejects))
    assert rows == [
        ["reference", "name", "email", "phone_number", "error"],
        ["r2", "Bad Mail", "not-an-email", "", "row 3: email: Enter a valid email address."],
        ["r3", "Ada Again", "ADA@example.com", "",
         "row 4: email: An earlier row of this file has the same email."],
        ["r1", "Same Ref", "other@example.com", "",
         "row 5: reference: An earlier row of this file has the same reference."],
        ["r5", "Formula", "'=HYPERLINK(1)", "",
         "row 6: email: This cell is a spreadsheet formula, not a value; put the value itself "
         "(or start the cell with ' to keep it as text)."],
        ["r6", "Taken", "taken@example.com", "",
         "row 7: email: A customer with this email already exists."],
        ["", "No Contact", "", "",
         "row 8: email: Give an email address or a phone number (or both)."],
    ]  # fmt: skip
    assert customer(merchant, reference="r8").phone == "+221771234567"
    assert lines[-1] == f"Rejected rows: {path}.rejects.csv"


def test_a_rejected_type_status_or_website_says_what_to_put_instead(merchant, tmp_path):
    path = write_csv(
        tmp_path / "choices.csv",
        [
            ["reference", "name", "email", "customer_type", "status", "website"],
            ["c1", "Ada", "ada@example.com", "company", "", ""],
            ["c2", "Bo", "bo@example.com", "", "ACTIVE", "bo.example.com"],
            ["c3", "Cy", "cy@example.com", "", "closed", ""],
        ],
    )
    imported(merchant, path)

    with open(f"{path}.rejects.csv", encoding="utf-8-sig", newline="") as rejects:
        errors = [row[-1] for row in csv.reader(rejects)][1:]
    assert errors == [
        "row 2: customer_type: Value 'company' is not a valid choice; use individual or business.",
        "row 3: website: Enter a website address that starts with http:// or https://.",
        "row 4: status: Value 'closed' is not a valid choice; "
        "use pending_kyc, active, inactive or blocked.",
    ]


def test_rerunning_a_file_creates_nothing_and_records_no_event(merchant, tmp_path):
    rows = [["reference", "name", "email"]] + [
        [f"ref-{n}", f"Customer {n}", f"c{n}@example.com"] for n in range(25)
    ]
    path = write_csv(tmp_path / "again.csv", rows)
    imported(merchant, path)
    events = CustomerEvent.objects.filter(merchant=merchant)
    assert list(events.order_by("number").values_list("number", flat=True)) == list(range(1, 26))
    assert set(events.values_list("source", "action", "actor")) == {
        ("import", "created", "import:again.csv")
    }
    lines = imported(merchant, path)
    assert lines[-1].startswith("25 rows read: 0 created, 0 updated, 25 skipped, 0 rejected")
    assert Customer.objects.filter(merchant=merchant).count() == 25
    assert events.count() == 25
    assert CustomerCount.objects.get(merchant=merchant).count == 25


def test_rows_matching_existing_customers_by_reference_email_in_any_case_or_phone_are_skipped(
    merchant, other_merchant, tmp_path
):
    ada = make_customer(merchant, reference="a1", name="Ada", email="ada@example.com")
    bo = make_customer(merchant, name="Bo", email="Bo.Sow@Example.com")
    cy = make_customer(merchant, name="Cy", phone="+221771234567")
    make_customer(other_merchant, name="Di", email="di@example.com", phone="+221770000001")
    path = write_csv(
        tmp_path / "known.csv",
        [
            ["reference", "name", "email", "phone"],
            ["a1", "Ada again", "", ""],
            ["", "Bo again", "bo.sow@example.COM", ""],
            ["", "Cy again", "", "+221 77 123 45 67"],
            ["", "Di, new here", "di@example.com", "+221770000001"],
        ],
    )

    lines = imported(merchant, path, "--update-existing")

    assert lines[-1].startswith("4 rows read: 1 created, 3 updated, 0 skipped, 0 rejected")
    for known, name in [(ada, "Ada again"), (bo, "Bo again"), (cy, "Cy again")]:
        known.refresh_from_db()
        assert known.name == name
    assert customer(merchant, email="di@example.com").name == "Di, new here"


def test_an_interrupted_import_resumed_creates_the_rest_only(merchant, tmp_path):
    rows = [["email", "name"]] + [[f"c{n}@example.com", f"C {n}"] for n in range(10)]
    write_csv(tmp_path / "part.csv", rows[:5])
    imported(merchant, tmp_path / "part.csv")
    lines = imported(merchant, write_csv(tmp_path / "all.csv", rows))
    assert lines[-1].startswith("10 rows read: 6 created, 0 updated, 4 skipped, 0 rejected")
    assert Customer.objects.filter(merchant=merchant).count() == 10


def test_update_existing_changes_the_matched_customers_and_records_updates(merchant, tmp_path):
    ada = make_customer(merchant, reference="a1", name="Ada", email="ada@example.com",
                        address={"line1": "1 Rue", "city": "Dakar"})  # fmt: skip
    path = write_csv(
        tmp_path / "u.csv",
        [["reference", "status", "city"], ["a1", "INACTIVE", "Thiès"], ["zz", "active", ""]],
    )
    lines = imported(merchant, path, "--update-existing")
    ada.refresh_from_db()
    assert (ada.status, ada.address) == ("inactive", {"line1": "1 Rue", "city": "Thiès"})
    assert lines[-2].startswith("2 rows read: 0 created, 1 updated, 0 skipped, 1 rejected")
    event = CustomerEvent.objects.filter(customer_id=ada.pk).latest("number")
    assert (event.action, event.source) == ("updated", "import")
    assert event.data["previous_attributes"]["status"] == "active"


def test_a_dry_run_reports_everything_and_writes_nothing(merchant, tmp_path):
    path = write_csv(
        tmp_path / "d.csv",
        [["name", "email"], ["Ada", "ada@example.com"], ["Bad", "nope"]],
    )
    lines = imported(merchant, path, "--dry-run")
    assert lines[-1].startswith(
        "Dry run, nothing written: 2 rows read: 1 created, 0 updated, 0 skipped, 1 rejected"
    )
    assert not Customer.objects.exists()
    assert not (tmp_path / "d.csv.rejects.csv").exists()


def test_a_huge_cell_rejects_its_row_only(merchant, tmp_path):
    path = write_csv(
        tmp_path / "big.csv",
        [["name", "email", "description"], ["Ada", "ada@example.com", "x" * 2_000_000],
         ["Bo", "bo@example.com", "fine"]],
    )  # fmt: skip
    lines = imported(merchant, path)
    assert lines[-2].startswith("2 rows read: 1 created, 0 updated, 0 skipped, 1 rejected")
    assert "description: Ensure this value has at most 1000 characters" in lines[-3]


@pytest.mark.parametrize(
    "column", ["description", "name", "country", "currency", "email", "phone", "metadata"]
)
def test_a_megabyte_in_any_column_rejects_its_row_with_a_short_clear_message(
    merchant, tmp_path, column
):
    # Eight times the CSV reader's own cell limit; ten megabytes go through the same code
    # (the tests below), and a message never grows with the value.
    good = {"name": "Bo", "email": "bo@example.com"}
    good.setdefault(column, "")
    bad = {"name": "Ada", "email": "ada@example.com", column: "9" * 1_000_000}
    path = write_csv(tmp_path / "ten.csv", [list(good), list(bad.values()), list(good.values())])
    lines = imported(merchant, path)
    assert lines[-2].startswith("2 rows read: 1 created, 0 updated, 0 skipped, 1 rejected")
    assert lines[-3].startswith(f"  row 2: {column}: ")
    assert len(lines[-3]) < 300
    with open(f"{path}.rejects.csv", encoding="utf-8-sig", newline="") as rejects:
        rows = list(csv.reader(rejects))
    assert len(rows) == 2
    assert rows[1][list(bad).index(column)] == bad[column]


def test_a_ten_megabyte_cell_over_the_length_limit_says_the_limit(merchant, tmp_path):
    rows = [["name", "email", "description"], ["Ada", "ada@example.com", "x" * 10_000_000]]
    path = write_csv(tmp_path / "ten.csv", rows)
    lines = imported(merchant, path)
    assert "  row 2: description: Ensure this value has at most 1000 characters" in lines[-3]


def test_a_ten_megabyte_value_in_json_lines_rejects_its_line_only(merchant, tmp_path):
    path = write_jsonl(
        tmp_path / "ten.jsonl",
        [{"name": "Ada", "email": "ada@example.com", "metadata": {"note": "x" * 10_000_000}},
         {"name": "Bo", "email": "bo@example.com", "description": "y" * 10_000_000},
         {"name": "Cy", "email": "cy@example.com"}],
    )  # fmt: skip
    lines = imported(merchant, path)
    assert lines[-2].startswith("3 rows read: 1 created, 0 updated, 0 skipped, 2 rejected")
    assert lines[-4] == (
        "  line 1: metadata.note: Metadata value of 'note' is longer than 500 characters."
    )
    assert lines[-3].startswith("  line 2: description: Ensure this value has at most 1000")


def test_a_json_lines_line_that_is_no_object_is_rejected_for_that_alone(merchant, tmp_path):
    path = tmp_path / "odd.jsonl"
    path.write_text(
        '{"name": "Ada", "email": \n["a", "b"]\n{"name": "Xu", "email": "xu@example.com"}\n',
        encoding="utf-8",
    )
    lines = imported(merchant, path)
    assert lines[-4:-2] == [
        "  line 1: Not JSON: unexpected end of data: line 1 column 25 (char 24).",
        "  line 2: Not a JSON object: each line is one customer.",
    ]
    assert lines[-2].startswith("3 rows read: 1 created, 0 updated, 0 skipped, 2 rejected")
    with open(f"{path}.rejects.csv", encoding="utf-8-sig", newline="") as rejects:
        assert list(csv.reader(rejects)) == [
            ["name", "email", "error"],
            ['{"name": "Ada", "email":', "",
             "line 1: Not JSON: unexpected end of data: line 1 column 25 (char 24)."],
            ['["a", "b"]', "", "line 2: Not a JSON object: each line is one customer."],
        ]  # fmt: skip
    assert customer(merchant, email="xu@example.com").name == "Xu"


def test_a_row_with_thousands_of_problems_is_told_the_first_ones(merchant, tmp_path):
    bad_keys = {f"bad key {n}": "x" for n in range(5000)}
    path = write_jsonl(tmp_path / "keys.jsonl", [{"name": "Ada", "email": "ada@example.com",
                                                   "metadata": bad_keys}])  # fmt: skip
    lines = imported(merchant, path)
    assert lines[-2].startswith("1 rows read: 0 created, 0 updated, 0 skipped, 1 rejected")
    assert lines[-3].endswith("; and 4991 more problems")
    assert len(lines[-3]) < 2000


def test_a_file_of_thousands_of_unknown_columns_is_refused_naming_the_first(merchant, tmp_path):
    path = write_jsonl(
        tmp_path / "wide.jsonl", [{"name": "Ada", **{f"x{n}": 1 for n in range(20_000)}}]
    )
    with pytest.raises(CommandError) as refused:
        imported(merchant, path)
    message = str(refused.value)
    assert "Unknown column “x0”" in message
    assert message.endswith("Column 13 and those after it were not checked.")


def test_a_cell_over_the_cell_limit_refuses_the_file_saying_the_limit(merchant, tmp_path):
    from customers.imports import CELL_LIMIT

    rows = [["name", "email", "description"], ["Ada", "ada@example.com", "x" * (CELL_LIMIT + 2)]]
    path = write_csv(tmp_path / "huge.csv", rows)
    with pytest.raises(CommandError, match="Line 2 has a cell larger than 16 MB"):
        imported(merchant, path)
    assert not Customer.objects.exists()


def test_a_file_of_only_rejected_rows_lists_the_first_and_writes_them_all(merchant, tmp_path):
    from customers.imports import BATCH_SIZE, LISTED_REJECTS

    count = 3 * BATCH_SIZE + 1  # batches over, many more than are listed
    path = write_csv(
        tmp_path / "rejects.csv",
        [["name", "email"], *[[f"C {n}", f"not-an-email-{n}"] for n in range(count)]],
    )
    lines = imported(merchant, path)
    listed = [line for line in lines if line.startswith("  row ")]
    assert len(listed) == LISTED_REJECTS
    assert listed[0] == "  row 2: email: Enter a valid email address."
    assert lines[-3] == f"  … and {count - LISTED_REJECTS} more."
    assert lines[-2].startswith(f"{count} rows read: 0 created, 0 updated, 0 skipped, {count} ")
    with open(f"{path}.rejects.csv", encoding="utf-8-sig", newline="") as rejects:
        assert sum(1 for _ in csv.reader(rejects)) == count + 1
    assert not Customer.objects.exists()


def test_an_import_interrupted_midway_keeps_exactly_the_batches_it_reports(
    merchant, tmp_path, monkeypatch
):
    from customers import imports

    batches = []
    real = imports.customers_import_batch

    def interrupted_on_the_third_batch(**kwargs):
        batches.append(1)
        if len(batches) == 3:
            raise KeyboardInterrupt
        return real(**kwargs)

    monkeypatch.setattr(imports, "customers_import_batch", interrupted_on_the_third_batch)
    rows = [
        ["email", "name"],
        *[[f"c{n}@example.com", "C"] for n in range(2 * imports.BATCH_SIZE + 10)],
    ]
    path = write_csv(tmp_path / "cut.csv", rows)
    out = StringIO()
    with pytest.raises(CommandError, match=r"Interrupted\. The batches above were committed"):
        call_command("import_customers", str(path), "--merchant", merchant.slug, stdout=out)
    done = 2 * imports.BATCH_SIZE
    assert f"{done} rows read: {done} created, 0 updated, 0 skipped, 0 rejected" in out.getvalue()
    assert Customer.objects.filter(merchant=merchant).count() == done
    assert CustomerEvent.objects.filter(merchant=merchant).count() == done
    assert CustomerCount.objects.get(merchant=merchant).count == done


def test_the_keys_seen_in_a_file_are_still_found_once_kept_in_sorted_arrays(monkeypatch):
    from customers.services import SeenKeys

    monkeypatch.setattr(SeenKeys, "RECENT", 8)
    seen = SeenKeys()
    keys = [("email", f"c{n}@example.com") for n in range(1000)]
    for key in keys[::2]:
        seen.add(key)
    assert all(key in seen for key in keys[::2])
    assert not any(key in seen for key in keys[1::2])
    sizes = [len(hashes) for hashes in seen._sorted]
    assert sum(sizes) + len(seen._recent) == 500
    assert all(list(hashes) == sorted(hashes) for hashes in seen._sorted)
    assert all(bigger > 2 * smaller for bigger, smaller in itertools.pairwise(sizes))


def test_a_large_import_refreshes_the_database_statistics_as_it_grows(
    merchant, tmp_path, monkeypatch
):
    from customers import imports, services

    services.customers_statistics_refresh()  # ANALYZE on PostgreSQL, nothing elsewhere
    refreshed = []
    monkeypatch.setattr(imports, "STATISTICS_FROM", 500)
    monkeypatch.setattr(
        imports, "customers_statistics_refresh", lambda: refreshed.append(Customer.objects.count())
    )
    rows = [["email", "name"], *[[f"c{n}@example.com", "C"] for n in range(2500)]]
    imported(merchant, write_csv(tmp_path / "grows.csv", rows))
    assert refreshed == [1000, 2000]  # after 500 rows (the first batch), then at twice as many
    imported(merchant, write_csv(tmp_path / "grows.csv", rows))
    assert refreshed == [1000, 2000]  # nothing written, nothing to refresh


def test_rows_validated_by_worker_processes_import_exactly_as_in_one(
    merchant, other_merchant, tmp_path
):
    from customers import imports

    rows = [["reference", "name", "email", "phone", "country", "metadata"]]
    for n in range(2 * imports.BATCH_SIZE + 300):
        email = "not-an-email" if n % 97 == 0 else f"c{n}@example.com"
        phone = "+221 77 123 45 67" if n % 5 == 0 else ""
        rows.append([f"r{n % 2100}", f"C {n}", email, phone, "Sénégal", json.dumps({"n": n})])
    rows.append(["x", "=1+1", "x@example.com", "", "", ""])
    path = write_csv(tmp_path / "many.csv", rows)
    make_customer(merchant, name="Ada", email="c7@example.com")
    make_customer(other_merchant, name="Ada", email="c7@example.com")

    alone = imported(merchant, path, "--workers", "0")
    rejects_alone = (tmp_path / "many.csv.rejects.csv").read_text(encoding="utf-8-sig")
    in_workers = imported(other_merchant, path, "--workers", "2")
    rejects_in_workers = (tmp_path / "many.csv.rejects.csv").read_text(encoding="utf-8-sig")

    assert alone[-2].startswith("2301 rows read: 2081 created, 0 updated, 0 skipped, 220 rejected")
    assert in_workers[-2].split(" in ")[0] == alone[-2].split(" in ")[0]
    assert in_workers[:-2] == alone[:-2]
    assert rejects_in_workers == rejects_alone
    fields = ["reference", "name", "email", "phone", "country", "metadata", "status", "type"]
    assert sorted(Customer.objects.filter(merchant=other_merchant).values_list(*fields)) == sorted(
        Customer.objects.filter(merchant=merchant).values_list(*fields)
    )
    events = CustomerEvent.objects.filter(merchant=other_merchant).order_by("number")
    assert list(events.values_list("number", flat=True)) == list(range(1, 2083))


# --- export ---------------------------------------------------------------------------------------


def test_export_reimports_unchanged_into_another_merchant(merchant, other_merchant, tmp_path):
    make_customer(
        merchant, reference="x-1", name="=SUM(A1)", email="ada@example.com",
        phone="+221771234567", whatsapp="+221771234567", country="SN", currency="XOF",
        address={"line1": "1 Rue", "city": "Dakar"}, metadata={"tier": "gold", "score": 9.5},
        description="-5 points", status="blocked", type="business", company="Ada SARL",
        website="https://ada.example.com",
    )  # fmt: skip
    make_customer(merchant, first_name="Binta", last_name="Sow", phone="+221779876543")
    for fmt in ("csv", "jsonl"):
        out = tmp_path / f"export.{fmt}"
        run("export_customers", "--merchant", merchant.slug, "--output", str(out))
        again = other_merchant if fmt == "csv" else make_other(fmt)
        imported(again, out)
        fields = [c for c in EXPORT_COLUMNS if "." not in c] + ["address"]
        source = sorted(Customer.objects.filter(merchant=merchant).values_list(*fields))
        copied = sorted(Customer.objects.filter(merchant=again).values_list(*fields))
        assert copied == source


def make_other(slug):
    return make_merchant(slug=f"copy-{slug}")


def test_export_csv_has_a_bom_the_import_columns_and_text_phones(merchant):
    make_customer(merchant, name="Ada", phone="+221771234567")
    out = StringIO()
    call_command("export_customers", "--merchant", merchant.slug, stdout=out, stderr=StringIO())
    text = out.getvalue()
    assert text.startswith("\ufeff")
    rows = list(csv.DictReader(io.StringIO(text[1:])))
    assert list(rows[0]) == list(EXPORT_COLUMNS)
    assert rows[0]["phone"] == "'+221771234567"


def test_export_filters_with_the_api_list_query_string(merchant, tmp_path):
    make_customer(merchant, name="Blocked", email="b@example.com", status="blocked", country="SN")
    make_customer(merchant, name="Active", email="a@example.com", country="SN")
    out = tmp_path / "blocked.jsonl"
    run("export_customers", "--merchant", merchant.slug, "--filter", "status=blocked&country=sen",
        "--output", str(out), "--format", "jsonl")  # fmt: skip
    assert [json.loads(line)["name"] for line in out.read_text().splitlines()] == ["Blocked"]
    with pytest.raises(CommandError, match="did you mean status"):
        run("export_customers", "--merchant", merchant.slug, "--filter", "statu=blocked")
    with pytest.raises(CommandError, match="type"):
        run("export_customers", "--merchant", merchant.slug, "--filter", "type=robot")


def test_an_email_taken_by_another_writer_meanwhile_rejects_that_row_only(merchant, monkeypatch):
    from customers import services

    make_customer(merchant, email="awa@example.com")
    # As if the other writer's customer was inserted after the batch looked for matches.
    monkeypatch.setattr(services, "_existing", lambda merchant, customers, full: {})
    rows = [
        services.ImportRow(2, {"name": "Awa", "email": "awa@example.com"}),
        services.ImportRow(3, {"name": "Binta", "email": "binta@example.com"}),
    ]

    outcomes = services.customers_import_batch(merchant=merchant, rows=rows, actor="import:x")

    assert [outcome.result for outcome in outcomes] == ["rejected", "created"]
    assert outcomes[0].error.message_dict == {
        "email": ["A customer with this email already exists."]
    }
    assert sorted(Customer.objects.values_list("email", flat=True)) == [
        "awa@example.com",
        "binta@example.com",
    ]
    assert CustomerEvent.objects.filter(source="import").count() == 1
