"""Error pages: JSON for the API, small HTML for people. Never a traceback to the client."""
from __future__ import annotations

from django.http import HttpResponse, JsonResponse


def _wants_json(request) -> bool:
    return request.path.startswith("/api/")


def _page(status: int, title: str) -> HttpResponse:
    return HttpResponse(f"<!doctype html><title>{title}</title><h1>{title}</h1>", status=status)


def server_error(request):
    """500: the request failed on our side (the log line says why)."""
    if _wants_json(request):
        return JsonResponse({"error": "internal server error"}, status=500)
    return _page(500, "Server error: we could not complete your request")


def not_found(request, exception):
    """404."""
    if _wants_json(request):
        return JsonResponse({"error": "not found"}, status=404)
    return _page(404, "Not found")


def bad_request(request, exception):
    """400, including bodies that are too big."""
    if _wants_json(request):
        return JsonResponse({"error": f"bad request: {exception}" if str(exception) else "bad request"}, status=400)
    return _page(400, "Bad request")
