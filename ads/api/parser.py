"""The API's JSON parser: numbers are kept as the digits that were sent."""

from __future__ import annotations

import json
from typing import cast

from django.http import HttpRequest
from ninja.parser import Parser
from ninja.types import DictStrAny

from ads.schemas import JSON_INT_DIGITS, JsonNumber


def _integer(text: str) -> int | JsonNumber:
    # Ids and counts are small; a longer integer is most likely an amount (or garbage), and
    # converting thousands of digits would be slow (Python refuses past 4,300).
    return int(text) if len(text.lstrip("-")) <= JSON_INT_DIGITS else JsonNumber(text)


class ExactNumberParser(Parser):
    """``json.loads`` would turn 12.10 into the float 12.1 (and 0.1 + 0.2 into
    0.30000000000000004): amounts sent as JSON numbers could not be stored exactly. Here
    every non-integer number, and every integer too long to be an id, stays the text that
    was sent (``JsonNumber``); the schemas accept it for amounts only."""

    def parse_body(self, request: HttpRequest) -> DictStrAny:
        return cast(
            DictStrAny,
            json.loads(
                request.body,
                parse_float=JsonNumber,
                parse_int=_integer,
                parse_constant=JsonNumber,  # NaN, Infinity: refused as amounts by name
            ),
        )
