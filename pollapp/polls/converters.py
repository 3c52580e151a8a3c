"""URL ids: at most 18 digits, so every id in a URL fits the database's bigint (else a 404, not a 500)."""
from __future__ import annotations

from django.urls import register_converter

#: The largest id any table can hold (BigAutoField is a signed 64-bit integer).
MAX_ID = 2 ** 63 - 1


class IdConverter:
    """Like Django's `int`, but bounded: an id too big for the database does not match the URL."""

    regex = "[0-9]{1,18}"

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value: int) -> str:
        return str(value)


def valid_id(value: object) -> bool:
    """True for an int (not a bool) that can be a row id."""
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value <= MAX_ID


register_converter(IdConverter, "id")
