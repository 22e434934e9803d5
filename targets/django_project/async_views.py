"""Async views, served over ASGI: `/io` awaits asyncio.sleep, the ORM is used through its
async API (which Django still runs in a thread per request), so the async claim is measured."""

import asyncio

from django.http import HttpRequest, HttpResponse, JsonResponse

from targets.django_project.models import World
from targets.django_project.views import compact_json
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


async def plaintext(request: HttpRequest) -> HttpResponse:
    return HttpResponse(PLAINTEXT_BODY, content_type=PLAINTEXT_CONTENT_TYPE)


async def json(request: HttpRequest) -> JsonResponse:
    return compact_json(JSON_BODY)


async def _random_row() -> dict[str, int]:
    row = await World.objects.aget(id=random_world_id())
    return world_row(row.id, row.randomnumber)


async def db(request: HttpRequest) -> JsonResponse:
    return compact_json(await _random_row())


async def queries(request: HttpRequest) -> JsonResponse:
    count = queries_count(request.GET.get("n"))
    return compact_json([await _random_row() for _ in range(count)])


async def io(request: HttpRequest) -> JsonResponse:
    wait_ms = io_ms(request.GET.get("ms"))
    await asyncio.sleep(wait_ms / 1000)
    return compact_json(io_body(wait_ms))


async def cpu(request: HttpRequest) -> JsonResponse:
    return compact_json(cpu_body(cpu_n(request.GET.get("n"))))
