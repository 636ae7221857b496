"""The search log's masking, with generated mail addresses, phone numbers and 12-digit numbers (hypothesis)."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from api.log.masking import MASK, mask

JAPANESE = st.text(
    alphabet=st.sampled_from("窓口キャッシュレスの事例を教えて電子申請自治体市区町村、。年度"),
    max_size=20,
)
LOCAL = st.from_regex(r"[a-z0-9][a-z0-9._+\-]{0,15}", fullmatch=True)
DOMAIN = st.from_regex(r"[a-z0-9]{1,10}(\.[a-z0-9]{1,8}){1,3}", fullmatch=True)
SEP = st.sampled_from(["-", "", " ", "－"])


@st.composite
def phones(draw) -> str:
    """Japanese phone numbers as written: 03-1234-5678, 090-1234-5678, 0120-123-456, 0312345678, +81 3 …"""
    area = draw(st.sampled_from(["03", "06", "011", "0120", "090", "080", "0467", "099"]))
    total = 11 if area in ("090", "080") else 10
    rest = draw(st.from_regex(rf"[0-9]{{{total - len(area)}}}", fullmatch=True))
    cut = draw(st.integers(1, len(rest) - 1))
    sep = draw(SEP)
    number = f"{area}{sep}{rest[:cut]}{sep}{rest[cut:]}"
    if draw(st.booleans()):
        number = f"+81{sep}{area[1:]}{sep}{rest[:cut]}{sep}{rest[cut:]}"
    return number


TWELVE = st.from_regex(r"[0-9]{12}", fullmatch=True) | st.from_regex(
    r"[0-9]{4}[ \-][0-9]{4}[ \-][0-9]{4}", fullmatch=True
)


def _digits(text: str) -> str:
    return re.sub(r"\D", "", text)


@settings(max_examples=300, deadline=None)
@given(JAPANESE, LOCAL, DOMAIN, JAPANESE)
def test_mail_addresses_are_masked(before, local, domain, after):
    address = f"{local}@{domain}"
    out = mask(f"{before}{address} {after}")
    assert address not in out and "@" not in out and MASK in out


@settings(max_examples=300, deadline=None)
@given(JAPANESE, phones(), JAPANESE)
def test_phone_numbers_are_masked(before, phone, after):
    out = mask(f"{before}{phone}{after}")
    assert MASK in out
    assert _digits(phone)[-8:] not in _digits(out)


@settings(max_examples=300, deadline=None)
@given(JAPANESE, TWELVE, JAPANESE)
def test_twelve_digit_numbers_are_masked(before, number, after):
    out = mask(f"{before}{number}{after}")
    assert MASK in out and _digits(number) not in _digits(out)


@settings(max_examples=300, deadline=None)
@given(JAPANESE, st.integers(0, 99_999_999), JAPANESE)
def test_ordinary_queries_and_short_numbers_are_kept(before, number, after):
    text = f"{before}{number}{after}"
    assert mask(text) == text


def test_full_width_forms_are_caught():
    assert mask("電話は０３－１２３４－５６７８まで") == f"電話は{MASK}まで"
    assert mask("ｔａｒｏ＠ｃｉｔｙ．ｅｘａｍｐｌｅ．ｊｐ") == MASK
    assert mask("2023年度の事例 令和5年") == "2023年度の事例 令和5年"
