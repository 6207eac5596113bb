"""The floor the API is measured against: a bare Django view that runs the very SQL the API ran
for a scenario, through Django's connection, and returns the rows with orjson.

``make bench`` captures that SQL from the API itself (``capture``) and hands it to the server
in the file named by ``BENCH_BASELINE_SQL``: the difference between the two is the cost of
everything the API does besides its queries.
"""

import json
import os
from functools import cache

import orjson
from django.db import connection
from django.http import HttpResponse, JsonResponse


@cache
def statements() -> dict[str, list[str]]:
    with open(os.environ["BENCH_BASELINE_SQL"]) as file:
        return json.load(file)


def replay(request, scenario: str):
    queries = statements().get(scenario)
    if queries is None:
        return JsonResponse({"error": f"no SQL captured for {scenario}"}, status=404)
    results = []
    with connection.cursor() as cursor:
        for sql in queries:
            cursor.execute(sql)
            columns = [column.name for column in cursor.description]
            results.append([dict(zip(columns, row, strict=True)) for row in cursor.fetchall()])
    return HttpResponse(
        orjson.dumps({"data": results}, default=str, option=orjson.OPT_NON_STR_KEYS),
        content_type="application/json",
    )
