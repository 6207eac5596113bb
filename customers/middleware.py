"""Request-wide plumbing that every door shares."""

import re

from .ids import uuid7

#: A client's request id is echoed only if it is short and made of safe characters.
SAFE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:+/=@-]{1,128}")


class RequestIDMiddleware:
    """Every response carries ``X-Request-ID``: the client's own if it is safe to echo,
    otherwise a new one. ``request.id`` holds it for logs."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.headers.get("X-Request-ID", "")
        request.id = incoming if SAFE_REQUEST_ID.fullmatch(incoming) else str(uuid7())
        response = self.get_response(request)
        response["X-Request-ID"] = request.id
        return response
