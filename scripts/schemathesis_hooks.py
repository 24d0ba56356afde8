"""Schemathesis hooks for scripts/schemathesis.sh.

New passwords must not be one of the 10,000 most common (server/data/common-passwords-10k.txt,
compared as typed and in lower case). The API document says so in words only: listing them would
add 100 KB to it. So a case that is meant to be valid (positive) and picks a common password gets
a suffix that makes it uncommon, and the server's answer to the rest of that request is tested.
"""

from pathlib import Path

import schemathesis
from schemathesis.generation.modes import GenerationMode

COMMON = {
    line
    for line in (Path(__file__).resolve().parent.parent / "server/data/common-passwords-10k.txt")
    .read_text(encoding="utf-8")
    .splitlines()
    if line
}
NEW_PASSWORD_FIELDS = ("password", "new_password")


def is_common(password: str) -> bool:
    return password in COMMON or password.lower() in COMMON


@schemathesis.hook
def map_case(context, case):
    meta = case.meta
    if meta is None or meta.generation.mode != GenerationMode.POSITIVE or not isinstance(case.body, dict):
        return case
    for field in NEW_PASSWORD_FIELDS:
        value = case.body.get(field)
        if isinstance(value, str) and is_common(value):
            case.body[field] = value + "~7"
    return case
