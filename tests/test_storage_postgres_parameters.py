"""storage.backends.postgres.bind_parameters: the store's `:name` and `?` parameters become
PostgreSQL's `$n` (no server needed)."""

from __future__ import annotations

import pytest

from storage.backends.postgres import bind_parameters


def test_named_parameters_are_numbered_in_order_of_first_use_and_reused():
    text, args = bind_parameters(
        "UPDATE t SET a = :day WHERE chat = :chat AND (b IS NULL OR b < :day)",
        {"chat": 7, "day": "2030-01-01", "unused": 1},
    )
    assert text == "UPDATE t SET a = $1 WHERE chat = $2 AND (b IS NULL OR b < $1)"
    assert args == ["2030-01-01", 7]


def test_question_marks_are_numbered_left_to_right():
    text, args = bind_parameters("SELECT * FROM t WHERE a = ? AND b = ?", ("x", 2))
    assert text == "SELECT * FROM t WHERE a = $1 AND b = $2"
    assert args == ["x", 2]


def test_quoted_text_and_casts_are_left_alone():
    sql = (
        "SELECT value::bigint, 'a :name, a ? and it''s :x' FROM t"
        " WHERE kind = 'donate_audio' AND c = CAST(:label AS TEXT) AND d = :label"
    )
    text, args = bind_parameters(sql, {"label": "happy"})
    assert text == (
        "SELECT value::bigint, 'a :name, a ? and it''s :x' FROM t"
        " WHERE kind = 'donate_audio' AND c = CAST($1 AS TEXT) AND d = $1"
    )
    assert args == ["happy"]


def test_a_statement_without_parameters_is_unchanged():
    assert bind_parameters("SELECT 1", ()) == ("SELECT 1", [])


def test_mixing_named_and_question_mark_parameters_is_refused():
    with pytest.raises(ValueError, match="mixes"):
        bind_parameters("SELECT :a, ?", {"a": 1})


def test_a_missing_named_parameter_is_an_error_not_a_null():
    with pytest.raises(KeyError, match="chat"):
        bind_parameters("SELECT * FROM t WHERE chat = :chat", {"day": 1})
