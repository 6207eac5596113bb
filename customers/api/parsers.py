"""How the API reads request bodies (strict JSON, bounded size) and picks a response format."""

import json
import math

from django.conf import settings
from django.http import Http404
from rest_framework import exceptions, negotiation, parsers

from .exceptions import PayloadTooLarge


def _reject_constant(name: str):
    raise ValueError(f"{name} is not a JSON number")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"number {text} is out of range")
    return value


def _object_without_duplicate_keys(pairs: list[tuple[str, object]]) -> dict:
    result = {}
    for key, value in pairs:
        if key in result:
            raise ValueError(f"duplicate key {key!r}")
        result[key] = value
    return result


class StrictJSONParser(parsers.JSONParser):
    """UTF-8 JSON only, of bounded size; no NaN or Infinity, no duplicate keys (the last one
    would silently win), numbers that fit a float."""

    def parse(self, stream, media_type=None, parser_context=None):
        # A Content-Length over the limit was refused before the view (BodyLimitMiddleware).
        limit = settings.API_MAX_BODY_BYTES
        raw = stream.read(limit + 1) if stream is not None else b""
        if len(raw) > limit:
            raise PayloadTooLarge(f"The request body is larger than {limit} bytes.")
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise exceptions.ParseError("it is not UTF-8.") from None
        try:
            return json.loads(
                text,
                parse_constant=_reject_constant,
                parse_float=_finite_float,
                object_pairs_hook=_object_without_duplicate_keys,
            )
        except RecursionError:
            raise exceptions.ParseError("it is nested too deeply.") from None
        except ValueError as error:
            raise exceptions.ParseError(f"{error}.") from None


class FallbackContentNegotiation(negotiation.DefaultContentNegotiation):
    """An unknown ``?format=`` is a 400 naming the parameter; an ``Accept`` header that matches
    nothing gets JSON rather than an error outside the API's list of codes."""

    def select_renderer(self, request, renderers, format_suffix=None):
        try:
            return super().select_renderer(request, renderers, format_suffix)
        except Http404:
            formats = ", ".join(dict.fromkeys(renderer.format for renderer in renderers))
            raise exceptions.ValidationError(
                {self.settings.URL_FORMAT_OVERRIDE: [f"Choose one of: {formats}."]}
            ) from None
        except exceptions.NotAcceptable:
            return renderers[0], renderers[0].media_type
