from django.http import HttpRequest, HttpResponse, JsonResponse

from targets.payloads import JSON_BODY, PLAINTEXT_BODY


def plaintext(request: HttpRequest) -> HttpResponse:
    return HttpResponse(PLAINTEXT_BODY, content_type="text/plain")


def json(request: HttpRequest) -> JsonResponse:
    return JsonResponse(JSON_BODY)
