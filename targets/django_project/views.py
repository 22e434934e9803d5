"""Sync views, served over WSGI (gunicorn): `/io` blocks its worker thread while it waits."""

import time

from django.http import HttpRequest, HttpResponse, JsonResponse

from targets.django_project.models import World
from targets.payloads import (
    JSON_BODY,
    PLAINTEXT_BODY,
    PLAINTEXT_CONTENT_TYPE,
    cpu_body,
    cpu_n,
    io_body,
    io_ms,
    queries_count,
    random_world_id,
    world_row,
)


def compact_json(data: object) -> JsonResponse:
    """JSON without spaces after separators: the same bytes FastAPI sends."""
    return JsonResponse(data, safe=False, json_dumps_params={"separators": (",", ":")})


def plaintext(request: HttpRequest) -> HttpResponse:
    return HttpResponse(PLAINTEXT_BODY, content_type=PLAINTEXT_CONTENT_TYPE)


def json(request: HttpRequest) -> JsonResponse:
    return compact_json(JSON_BODY)


def _random_row() -> dict[str, int]:
    row = World.objects.get(id=random_world_id())
    return world_row(row.id, row.randomnumber)


def db(request: HttpRequest) -> JsonResponse:
    return compact_json(_random_row())


def queries(request: HttpRequest) -> JsonResponse:
    count = queries_count(request.GET.get("n"))
    return compact_json([_random_row() for _ in range(count)])


def io(request: HttpRequest) -> JsonResponse:
    wait_ms = io_ms(request.GET.get("ms"))
    time.sleep(wait_ms / 1000)
    return compact_json(io_body(wait_ms))


def cpu(request: HttpRequest) -> JsonResponse:
    return compact_json(cpu_body(cpu_n(request.GET.get("n"))))
