"""Contacts: every cell agrees with phonenumbers; lookups, buttons, records, rejects, keys."""

from __future__ import annotations

import json
import math
import re

import numpy as np
import pandas as pd
import phonenumbers
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from phonenumbers import NumberParseException, PhoneNumberFormat

from twilio_widget.contacts import Contacts, InvalidNumber, nanp, normalize, parse_number
from twilio_widget.contacts import columns as phone_columns
from twilio_widget.contacts import index as number_index


def naive(value, region="US"):
    """The reference: phonenumbers on the cell, E.164 if valid, else None."""
    try:
        number = phonenumbers.parse(value, region)
    except NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, PhoneNumberFormat.E164)


@pytest.fixture
def leads():
    return pd.DataFrame(
        {
            "name": ["Ann Lee", "Bob Roe", "Cy Doe", "Di Poe"],
            "mobile": ["(415) 555-0100", "junk", None, "+1 212 555 0199"],
            "work": ["+44 20 7946 0018", "415.555.0100", "", "  "],
            "score": [1.5, np.nan, 3, 4],
            "since": pd.to_datetime(["2024-01-02", None, "2024-03-04", "2024-05-06"]),
        },
        index=["a", "b", "c", "d"],
    )


@pytest.fixture
def book(leads):
    return Contacts.from_dataframe(leads, ["mobile", "work"], name="name")


# -- what the panel shows ---------------------------------------------------------------


def test_numbers_are_the_panel_buttons_in_field_order(book):
    assert book.numbers("a") == [
        {"field": "mobile", "label": "mobile", "number": "+14155550100", "display": "(415) 555-0100"},
        {"field": "work", "label": "work", "number": "+442079460018", "display": "+44 20 7946 0018"},
    ]
    # Rejects and blanks give no button.
    assert book.numbers("b") == [
        {"field": "work", "label": "work", "number": "+14155550100", "display": "(415) 555-0100"}
    ]
    assert book.numbers("c") == []


def test_rejects_list_every_invalid_value_and_no_blank(book):
    rejects = book.rejects
    assert list(rejects.columns) == ["row", "field", "value", "reason"]
    assert rejects.to_dict("records") == [
        {"row": "b", "field": "mobile", "value": "junk", "reason": "not a phone number"}
    ]


def test_reject_reasons_name_the_problem():
    df = pd.DataFrame({"p": ["555-0100", "+1 415 555", "(000) 000-0000", "+999 12345", "1234567890123456789"]})
    reasons = Contacts.from_dataframe(df, "p").rejects.set_index("value")["reason"].to_dict()
    assert reasons == {
        "555-0100": "local number without an area code",
        "+1 415 555": "too short",
        "(000) 000-0000": "not a valid number (unassigned range)",
        "+999 12345": "invalid country code",
        "1234567890123456789": "too long",
    }


def test_lookup_finds_every_cell_in_row_then_field_order(book):
    assert book.lookup("+14155550100") == [("a", "mobile"), ("b", "work")]
    # Any parseable format finds the same cells.
    assert book.lookup("(415) 555-0100") == book.lookup("415.555.0100") == book.lookup("+14155550100")
    assert book.lookup("+442079460018") == [("a", "work")]


@pytest.mark.parametrize("number", ["+14155550199", "junk", "", None, "+0123", "+1415555010", 12.5])
def test_lookup_of_unknown_or_invalid_numbers_is_empty(book, number):
    assert book.lookup(number) == []


def test_lookup_order_survives_many_cells():
    df = pd.DataFrame({"a": ["4155550100"] * 30, "b": ["+14155550100"] * 30})
    book = Contacts.from_dataframe(df, ["a", "b"])
    assert book.lookup("+14155550100") == [(i, f) for i in range(30) for f in ("a", "b")]


def test_record_is_json_safe_and_follows_the_view(leads):
    book = Contacts.from_dataframe(leads, ["mobile"], view=["name", "score", "since"])
    assert book.record("b") == {"name": "Bob Roe", "score": None, "since": None}
    assert book.record("c") == {"name": "Cy Doe", "score": 3.0, "since": "2024-03-04T00:00:00"}
    full = Contacts.from_dataframe(leads, ["mobile"]).record("a")
    assert list(full) == list(leads.columns)
    json.dumps(full, allow_nan=False)  # raises if anything is not JSON


def test_record_converts_numpy_and_odd_values():
    df = pd.DataFrame(
        {
            "p": ["4155550100"],
            "i": np.array([7], dtype=np.int64),
            "b": [np.True_],
            "inf": [math.inf],
            "td": [pd.Timedelta(seconds=90)],
            "obj": [{"x": 1}],
            "na": pd.array([None], dtype="Int64"),
        }
    )
    record = Contacts.from_dataframe(df, "p").record(0)
    assert record == {"p": "4155550100", "i": 7, "b": True, "inf": None, "td": "P0DT0H1M30S",
                      "obj": "{'x': 1}", "na": None}
    assert type(record["i"]) is int
    json.dumps(record, allow_nan=False)


def test_name_of_uses_the_name_column_else_the_key(leads):
    leads.loc["d", "name"] = None
    book = Contacts.from_dataframe(leads, ["mobile"], name="name")
    assert book.name_of("a") == "Ann Lee"
    assert book.name_of("d") == "d"
    assert Contacts.from_dataframe(leads, ["mobile"]).name_of("a") == "a"


# -- keys -------------------------------------------------------------------------------


def test_keys_positions_and_key_at_are_inverse(book, leads):
    assert book.keys.equals(leads.index)
    assert len(book) == 4
    for i, key in enumerate(book.keys):
        assert book.key_at(i) == key
        assert book.position(key) == i
    assert book.key_at(-1) == "d"
    assert "a" in book and "zz" not in book


def test_unknown_key_and_position_errors_name_them(book):
    with pytest.raises(KeyError, match="'zz'"):
        book.position("zz")
    with pytest.raises(KeyError, match="'zz'"):
        book.numbers("zz")
    with pytest.raises(IndexError, match="position: 4"):
        book.key_at(4)


def test_range_and_datetime_indexes_give_python_keys():
    df = pd.DataFrame({"p": ["4155550100", "2125550199"]}, index=pd.RangeIndex(10, 14, 2))
    book = Contacts.from_dataframe(df, "p")
    assert book.lookup("+12125550199") == [(12, "p")]
    assert type(book.key_at(0)) is int
    times = pd.DataFrame({"p": ["4155550100"]}, index=pd.to_datetime(["2024-01-01"]))
    tbook = Contacts.from_dataframe(times, "p")
    assert tbook.lookup("+14155550100") == [(pd.Timestamp("2024-01-01"), "p")]
    # A partial date string would select a slice in pandas; a key names exactly one row.
    with pytest.raises(KeyError):
        tbook.position("2024")


# -- several DataFrames ---------------------------------------------------------------


def test_combined_books_key_by_source_and_label(leads):
    customers = pd.DataFrame({"phone": ["4155550100", "bad"], "company": ["Acme", "Initech"]})
    book = Contacts.combine(
        [
            Contacts.from_dataframe(leads, ["mobile", "work"], name="name", source="leads"),
            Contacts.from_dataframe(customers, "phone", name="company", source="customers"),
        ]
    )
    assert len(book) == 6
    assert book.fields == ["mobile", "work", "phone"]
    assert book.keys.tolist()[-2:] == [("customers", 0), ("customers", 1)]
    assert book.lookup("+14155550100") == [
        (("leads", "a"), "mobile"),
        (("leads", "b"), "work"),
        (("customers", 0), "phone"),
    ]
    assert book.name_of(("customers", 0)) == "Acme"
    assert book.record(("customers", 0)) == {"phone": "4155550100", "company": "Acme"}
    assert book.numbers(("customers", 0))[0]["field"] == "phone"
    assert book.position(("customers", 1)) == 5 and book.key_at(5) == ("customers", 1)
    assert book.rejects["row"].tolist() == [("leads", "b"), ("customers", 1)]
    frame = book.to_frame()
    assert frame.loc[("customers", 0)].tolist() == [None, None, "+14155550100"]
    assert frame.loc[("leads", "a"), "phone"] is None
    with pytest.raises(KeyError, match="source, row label"):
        book.position("a")


def test_combine_names_sources_by_position_or_mapping(leads):
    part = Contacts.from_dataframe(leads, "mobile")
    assert Contacts.combine([part, part]).key_at(4) == (1, "a")
    assert Contacts.combine({"x": part, "y": part}).key_at(4) == ("y", "a")
    with pytest.raises(ValueError, match="source names must be unique"):
        Contacts.combine([Contacts.from_dataframe(leads, "mobile", source="x"),
                          Contacts.from_dataframe(leads, "work", source="x")])
    # A named single source keeps plain labels until combined; combining flattens.
    named = Contacts.from_dataframe(leads, "mobile", source="x")
    assert named.key_at(0) == "a" and named.source == "x"
    one = Contacts.combine([named])
    assert one.key_at(0) == ("x", "a") and one.source is None
    nested = Contacts.combine([one, Contacts.from_dataframe(leads, "work", source="y")])
    assert nested.keys.tolist()[::4] == [("x", "a"), ("y", "a")]
    with pytest.raises(ValueError, match="at least one"):
        Contacts.combine([])


# -- display ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("display", "us", "uk"),
    [
        ("national", "(415) 555-0100", "+44 20 7946 0018"),
        ("international", "+1 415-555-0100", "+44 20 7946 0018"),
        ("e164", "+14155550100", "+442079460018"),
        ("E.164", "+14155550100", "+442079460018"),
        (r"\.*$", "(415) 555-0100", "+44 20 7946 0018"),  # the element's default
        ("", "(415) 555-0100", "+44 20 7946 0018"),
        (r"(\d{3})(\d{3})(\d{4})", "415 555 0100", "+44 20 7946 0018"),
        ((r"(\d{3})(\d{3})(\d{4})", r"\1-\2-\3"), "415-555-0100", "+44 20 7946 0018"),
        (r"(\d{3})(\d{7})", "415 5550100", "+44 20 7946 0018"),
    ],
)
def test_display_formats(leads, display, us, uk):
    book = Contacts.from_dataframe(leads, ["mobile", "work"], display=display)
    assert [b["display"] for b in book.numbers("a")] == [us, uk]
    assert book.format("+14155550100") == us


def test_display_in_another_region_shows_its_numbers_nationally():
    df = pd.DataFrame({"us": ["+1 (415) 555-0100"], "uk": ["020 7946 0018"]})
    book = Contacts.from_dataframe(df, ["us", "uk"], region="GB")
    assert [b["display"] for b in book.numbers(0)] == ["+1 415-555-0100", "020 7946 0018"]
    # Numbers written without a country code belong to the region.
    assert Contacts.from_dataframe(pd.DataFrame({"p": ["(415) 555-0100"]}), "p", region="GB").numbers(0) == []


def test_regex_that_does_not_match_falls_back_to_national(leads):
    book = Contacts.from_dataframe(leads, "mobile", display=r"(\d{2})(\d{2})")
    assert book.format("+14155550100") == "(415) 555-0100"


def test_display_can_change_and_bad_display_is_named(book):
    book.display = "e164"
    assert book.numbers("a")[0]["display"] == "+14155550100"
    with pytest.raises(ValueError, match=r"display: '\(' is not a valid regular expression"):
        book.display = "("
    with pytest.raises(ValueError, match="display: 3"):
        book.display = 3


def test_format_works_for_numbers_outside_the_book(book):
    assert book.format("+12125550123") == "(212) 555-0123"
    assert book.format("2125550123") == "(212) 555-0123"
    assert book.format("+33 1 42 68 53 00") == "+33 1 42 68 53 00"
    assert book.format("nonsense") == "nonsense"


def test_to_frame_gives_every_cell(book):
    frame = book.to_frame()
    assert frame.loc["a"].tolist() == ["+14155550100", "+442079460018"]
    assert frame.loc["c"].isna().all()
    assert book.to_frame(display=True).loc["b", "work"] == "(415) 555-0100"


# -- input checks -----------------------------------------------------------------------


def test_bad_arguments_name_the_option(leads):
    with pytest.raises(ValueError, match="fields: column 'fax' is not in the DataFrame"):
        Contacts.from_dataframe(leads, ["mobile", "fax"])
    with pytest.raises(ValueError, match="fields: name at least one"):
        Contacts.from_dataframe(leads, [])
    with pytest.raises(ValueError, match="name: column 'nom'"):
        Contacts.from_dataframe(leads, "mobile", name="nom")
    with pytest.raises(ValueError, match="view: column 'x'"):
        Contacts.from_dataframe(leads, "mobile", view=["x"])
    with pytest.raises(ValueError, match="fields: a column is listed twice"):
        Contacts.from_dataframe(leads, ["mobile", "mobile"])
    with pytest.raises(ValueError, match="region: 'XX'"):
        Contacts.from_dataframe(leads, "mobile", region="XX")
    with pytest.raises(TypeError, match="df: expected a pandas DataFrame"):
        Contacts.from_dataframe({"mobile": []}, "mobile")
    twice = pd.concat([leads[["mobile"]], leads[["mobile"]]], axis=1)
    with pytest.raises(ValueError, match="fields: the DataFrame has more than one column named 'mobile'"):
        Contacts.from_dataframe(twice, "mobile")
    with pytest.raises(ValueError, match=r"row labels must be unique.*\['a'\]"):
        Contacts.from_dataframe(leads.rename(index={"b": "a"}), "mobile")


def test_parse_number_names_the_field_and_problem():
    assert parse_number("(415) 555-0100", field="dialpad") == "+14155550100"
    with pytest.raises(InvalidNumber, match=r"dialpad: '555' is not a valid phone number \(too short\)") as err:
        parse_number("555", field="dialpad")
    assert err.value.field == "dialpad" and err.value.reason == "too short"
    with pytest.raises(InvalidNumber, match="blank"):
        parse_number("  ", field="dialpad")
    assert isinstance(err.value, ValueError)


@given(st.one_of(st.text(max_size=30), st.integers(), st.floats(), st.none()), st.sampled_from(["US", "GB", "xx", ""]))
@example("1-800-FLOWERS", "US")
def test_normalize_never_raises_and_agrees_with_phonenumbers(value, region):
    result = normalize(value, region)
    assert result is None or re.fullmatch(r"\+[1-9]\d{1,14}", result)
    if isinstance(value, str) and value.strip() and region in ("US", "GB"):
        assert result == naive(value.strip(), region)


# -- agreement with phonenumbers on every cell ------------------------------------------

NANP_SHAPES = ["({a}) {b}-{c}", "{a}-{b}-{c}", "{a}.{b}.{c}", "{a}{b}{c}", "+1 {a} {b} {c}",
               "+1{a}{b}{c}", "1-{a}-{b}-{c}", "1 ({a}) {b}-{c}", " {a} {b} {c} ", "+ 1 {a}{b}{c}",
               "({a}){b}{c}", "{a}-{b}-{c} x12", "+1 ({a}) {b}.{c}", "1{a}{b}{c}", "(+1) {a} {b} {c}",
               "{a}\t{b}\t{c}", "+{a}{b}{c}", "11{a}{b}{c}", "{a}{b}{c}1", "++1{a}{b}{c}",
               "{a}+{b}-{c}", "1+{a}{b}{c}", "({a}) {b}-{c}+", "{a}/{b}-{c}", "{a}{b}\x00{c}"]

digits = st.text("0123456789", min_size=3, max_size=3)
nanp_text = st.builds(
    lambda shape, a, b, c: shape.format(a=a, b=b, c=c),
    st.sampled_from(NANP_SHAPES), digits, digits, st.text("0123456789", min_size=4, max_size=4),
)
# Anything built from the characters the numpy path looks at, and some it must not accept.
noise = st.text(st.sampled_from(list("0123456789 ()-.+1x\t\x00١٢") + ["\u00a0", "\uff11"]), max_size=26)


def assert_agrees(values, region="US"):
    df = pd.DataFrame({"p": pd.Series(values, dtype=object)})
    book = Contacts.from_dataframe(df, "p", region=region)
    got = book.to_frame()["p"].tolist()
    expected = [None if v is None or not str(v).strip() else naive(str(v).strip(), region) for v in values]
    assert [g if isinstance(g, str) else None for g in got] == expected
    rejected = set(book.rejects["row"])
    assert rejected == {i for i, v in enumerate(values) if expected[i] is None and v is not None and str(v).strip()}
    return book


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.one_of(nanp_text, noise), min_size=1, max_size=40), st.sampled_from(["US", "CA", "JM", "BB", "GB"]))
def test_fast_path_agrees_with_phonenumbers_on_every_cell(values, region):
    assert_agrees(values, region)


def test_fast_path_agrees_on_a_large_random_sample():
    rng = np.random.default_rng(5)
    n = 20_000
    area, exchange, line = rng.integers(0, 1000, n), rng.integers(0, 1000, n), rng.integers(0, 10000, n)
    shapes = rng.integers(0, len(NANP_SHAPES), n)
    values = [NANP_SHAPES[s].format(a=f"{a:03d}", b=f"{b:03d}", c=f"{c:04d}")
              for s, a, b, c in zip(shapes, area, exchange, line, strict=True)]
    book = assert_agrees(values)
    # The sample exercises the numpy path, not only the fallback.
    assert len(book.rejects) < n


def test_validity_table_matches_is_valid_number_for_every_prefix():
    """One number per six-digit prefix (800,000 prefixes would be slow; every 7th here)."""
    table = nanp.nanp_validity()
    assert table is not None
    rng = np.random.default_rng(9)
    prefixes = np.arange(200_000, 1_000_000, 7)
    for prefix, last4 in zip(prefixes.tolist(), rng.integers(0, 10_000, len(prefixes)).tolist(), strict=True):
        verdict = table[prefix]
        if verdict == 1:  # depends on the last four digits: left to phonenumbers
            continue
        number = phonenumbers.PhoneNumber(country_code=1, national_number=prefix * 10_000 + last4)
        assert phonenumbers.is_valid_number(number) == (verdict == 2), prefix * 10_000 + last4


def test_results_do_not_depend_on_the_fast_path(monkeypatch, leads):
    fast = Contacts.from_dataframe(leads, ["mobile", "work"])
    monkeypatch.setattr(nanp, "nanp_validity", lambda: None)
    slow = Contacts.from_dataframe(leads, ["mobile", "work"])
    pd.testing.assert_frame_equal(fast.to_frame(display=True), slow.to_frame(display=True))
    pd.testing.assert_frame_equal(fast.rejects, slow.rejects)


def test_nanp_display_layout_matches_format_number():
    book = Contacts.from_dataframe(pd.DataFrame({"p": ["4155550100"]}), "p")
    rng = np.random.default_rng(2)
    for nsn in rng.integers(2_000_000_000, 10_000_000_000, 2000).tolist():
        number = phonenumbers.parse(f"+1{nsn}")
        for display, style in (("national", PhoneNumberFormat.NATIONAL),
                               ("international", PhoneNumberFormat.INTERNATIONAL)):
            book.display = display
            expected = phonenumbers.format_number(number, style)
            assert book.format(f"+1{nsn}") == expected
            assert book._display.format_many(np.array([10**10 + nsn]))[0] == expected


def test_numeric_columns_read_as_the_numbers_they_hold():
    ints = pd.DataFrame({"p": np.array([4155550100, 2125550199, 1], dtype=np.int64)})
    assert Contacts.from_dataframe(ints, "p").to_frame()["p"].tolist()[:2] == ["+14155550100", "+12125550199"]
    # A blank in a CSV turns the column to floats; 1415555010.0 is the 10 digits 1415555010.
    floats = pd.DataFrame({"p": [4155550100.0, np.nan, 1415555010.0]})
    book = Contacts.from_dataframe(floats, "p")
    assert book.to_frame()["p"].tolist()[0] == "+14155550100"
    assert book.rejects[["row", "reason"]].values.tolist() == [[2, "not a valid number (unassigned range)"]]
    nullable = pd.DataFrame({"p": pd.array([4155550100, None], dtype="Int64")})
    assert Contacts.from_dataframe(nullable, "p").rejects.empty


def test_repr_summarises(book):
    assert repr(book) == "<Contacts: 4 contacts, fields ['mobile', 'work'], 4 numbers, 1 rejects>"


def test_number_index_packed_and_unpacked_agree():
    rng = np.random.default_rng(4)
    numbers = rng.choice(np.array([14155550100, 442079460018, 33142685300, 12125550199]), 500)
    cells = rng.permutation(500).astype(np.int64)
    packed = number_index.NumberIndex(numbers, cells)
    apart = number_index.NumberIndex(numbers, cells + (1 << 28))  # too many cells to pack
    assert packed.packs and not apart.packs
    for code in (14155550100, 442079460018, 33142685300, 12125550199, 19999999999):
        expected = sorted(cells[numbers == code].tolist())
        assert packed.cells(code) == expected
        assert apart.cells(code) == [c + (1 << 28) for c in expected]


def test_lookup_of_long_numbers_in_many_cells():
    df = pd.DataFrame({"a": ["+44 20 7946 0018", "x", "+442079460018"], "b": ["020 7946 0018", "", None]})
    book = Contacts.from_dataframe(df, ["a", "b"], region="GB")
    assert book.lookup("+442079460018") == [(0, "a"), (0, "b"), (2, "a")]


def test_display_of_every_cell_matches_one_by_one(leads):
    for display in ("national", "international", "e164", r"(\d{3})(\d{3})(\d{4})"):
        book = Contacts.from_dataframe(leads, ["mobile", "work"], display=display)
        frame = book.to_frame(display=True)
        for key in book.keys:
            assert {b["field"]: b["display"] for b in book.numbers(key)} == frame.loc[key].dropna().to_dict()


def test_a_big_book_reads_one_record_without_copying_the_frame():
    rows = 200_000
    df = pd.DataFrame({"phone": np.full(rows, "4155550100", dtype=object), "name": np.arange(rows).astype(str),
                       "note": "x"})
    book = Contacts.from_dataframe(df, "phone", view=["name", "note"])
    assert len(book.lookup("+14155550100")) == rows
    assert book.record(rows - 1) == {"name": str(rows - 1), "note": "x"}
    assert book.numbers(rows - 1)[0]["number"] == "+14155550100"


@given(st.lists(st.one_of(st.integers(-10**12, 10**12), st.floats(allow_nan=True, allow_infinity=True),
                          st.sampled_from([4155550100.0, 14155550100.0, 1415555010.0, 2125550199.5, -4155550100.0])),
                min_size=1, max_size=30))
@settings(deadline=None)
def test_numeric_cells_agree_with_reading_them_one_by_one(values):
    floats = pd.DataFrame({"p": pd.Series(values, dtype="float64")})
    book = Contacts.from_dataframe(floats, "p")
    assert [v if isinstance(v, str) else None for v in book.to_frame()["p"]] == [normalize(v) for v in floats["p"]]
    ints = [int(v) for v in values if isinstance(v, int)]
    if ints:
        book = Contacts.from_dataframe(pd.DataFrame({"p": ints}), "p")
        assert [v if isinstance(v, str) else None for v in book.to_frame()["p"]] == [normalize(v) for v in ints]


def test_integral_floats_take_the_numpy_path():
    column = pd.Series([4155550100.0, np.nan, 2125550199.5, 1e20])
    values = column.to_numpy(dtype=object)
    readable, candidates = phone_columns.fast_input(column, values, ~pd.isna(values))
    assert candidates.tolist() == [True, False, False, False]
    assert readable[0] == 4155550100
