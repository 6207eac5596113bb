"""JSON out, by orjson: the JSON of DRF's renderer (UTF-8, compact, ``indent`` for the browsable
API), several times faster on a page of customers."""

import decimal

import orjson
from django.utils.functional import Promise
from rest_framework import renderers


def _default(value):
    """What orjson does not know: lazy translations as text, decimals as numbers (as DRF)."""
    if isinstance(value, Promise):
        return str(value)
    if isinstance(value, decimal.Decimal):
        return float(value)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


class JSONRenderer(renderers.JSONRenderer):
    def render(self, data, accepted_media_type=None, renderer_context=None):
        if data is None:
            return b""
        indent = self.get_indent(accepted_media_type, renderer_context or {})
        return orjson.dumps(data, default=_default, option=orjson.OPT_INDENT_2 if indent else 0)
