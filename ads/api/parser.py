"""The API's JSON parser: a body is read only when it is declared JSON, and numbers are kept
as the digits that were sent."""

from __future__ import annotations

import json
from typing import cast

from django.http import HttpRequest
from ninja.parser import Parser
from ninja.types import DictStrAny

from ads.services.spend_input import JSON_INT_DIGITS, JsonNumber

JSON_MEDIA_TYPE = "application/json"
_SEND_JSON = f"send the body as JSON with Content-Type: {JSON_MEDIA_TYPE}"


class UnsupportedMediaType(Exception):
    """A body not declared as JSON: refused (415) rather than guessed at. Plain
    ``application/json`` only, parameters aside (RFC 8259 defines none; ``charset`` has no
    effect): a ``+json`` type names another format (a merge patch, JSON:API's envelope) with
    meanings these endpoints do not implement."""


def _require_json(request: HttpRequest) -> None:
    # Django has split the parameters off and lower-cased the media type.
    media_type = request.content_type or ""
    if media_type == JSON_MEDIA_TYPE:
        return
    if not media_type:
        raise UnsupportedMediaType(f"the request has a body but no Content-Type; {_SEND_JSON}")
    raise UnsupportedMediaType(f"Content-Type {media_type} is not accepted; {_SEND_JSON}")


def _integer(text: str) -> int | JsonNumber:
    # Ids and counts are small; a longer integer is most likely an amount (or garbage), and
    # converting thousands of digits would be slow (Python refuses past 4,300).
    return int(text) if len(text.lstrip("-")) <= JSON_INT_DIGITS else JsonNumber(text)


class ExactNumberParser(Parser):
    """``json.loads`` would turn 12.10 into the float 12.1 (and 0.1 + 0.2 into
    0.30000000000000004): amounts sent as JSON numbers could not be stored exactly. Here
    every non-integer number, and every integer too long to be an id, stays the text that
    was sent (``JsonNumber``); the schemas accept it for amounts only.

    Called only for a non-empty body of an endpoint that takes one; whatever it raises the
    framework wraps into a 400, which the API's handler turns back into the 415."""

    def parse_body(self, request: HttpRequest) -> DictStrAny:
        _require_json(request)
        return cast(
            DictStrAny,
            json.loads(
                request.body,
                parse_float=JsonNumber,
                parse_int=_integer,
                parse_constant=JsonNumber,  # NaN, Infinity: refused as amounts by name
            ),
        )
