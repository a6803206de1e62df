"""SQL injection: a quote-then-comment needs SQL or a breakout, and the shapes that hide keywords."""

from __future__ import annotations

import pytest

from services.guardrail.scanning.normalize import reveal_sql
from tests.unit.guardrail.helpers import kinds


@pytest.mark.parametrize("text", [
    # A value closes its own string, then an ordinary comment follows.
    'retries = "5"  # the queue gives up after that',
    "colour_scheme = 'amber'   # matches the brand sheet",
    'region: "eu-west-3" # keep near the customers',
    "owner = 'team-billing'  -- ask them before renaming",
    'The clerk answered "maybe" # and hung up',
    "He typed 'done' -- and closed the laptop.",
    'backup_iban = "DE44 5001 0517 5407 3249 31"  # FIXME rotate yearly',
    "Tom's note: the default is 'strict' # see the wiki",
    'path = "/var/lib/app"\t# created by the installer',
    'greeting = f"{user}\'s dashboard"  # shown after login',
    "WHERE region = 'emea' -- excludes test tenants",
    # Delays and stacked statements that are not SQL.
    "if not ready(): sleep(3)",
    "Then call time.sleep(2) and retry the upload.",
    "Step 4; update the runbook set for the night shift.",
    "Seat 12; insert into the queue when called.",
    "poll(); sleep(2); poll();",
    "Search for caf%C3%A9%20menu on the site",
])
def test_not_sql_injection(text: str) -> None:
    assert "sql_injection" not in kinds(text)


@pytest.mark.parametrize("text", [
    # Breaking out of a string the text never opened.
    "The login name arrived as superuser' --",
    "Attempted user: root'#",
    'The field contained guest" -- -',
    "The client's reset form sent manager'/* in the e-mail field",
    # A closed string with SQL around it.
    "The app built: SELECT id FROM staff WHERE login = 'ops' -- AND pin = ''",
    "lookup 'x' OR 'k'='k' # seen twice",
    "q=' OR 2 -- -",
])
def test_quote_comment_injection(text: str) -> None:
    assert "sql_injection" in kinds(text)


@pytest.mark.parametrize("text", [
    # Time-based, inside subqueries or after a string concatenation.
    "sku=14 AND (SELECT 3 FROM (SELECT(SLEEP(4)))q)",
    "page=2' OR 7=(SELECT 7 FROM pg_sleep(3))-- -",
    "name=a' || (SELECT pg_sleep(6))--",
    "cat=9 and if(2=2,sleep(3),0)",
    # MySQL versioned and inline comments splitting the keywords.
    "ref=4'/*!40000UNION*/ /*!40000SELECT*/ login,hash FROM accounts-- -",
    "term=z'/**/UnIoN/**/aLl/**/SeLeCt/**/1,2,version()-- -",
    "The WAF let through '/**/or/**/3=3-- - yesterday",
    # Writes stacked after a numeric parameter.
    "order=12; UPDATE accounts SET balance=1000000 WHERE id=7;--",
    "id=3; INSERT INTO admins (login) VALUES ('mallory');--",
    # Other delays: stacked, Oracle's pipe, after a regular-expression operator; URL-encoded.
    "sort=2;SELECT pg_sleep(4)",
    "dept=5 AND 3=DBMS_PIPE.RECEIVE_MESSAGE('q',8)",
    "tag=a' RLIKE SLEEP(6)-- -",
])
def test_sql_injection_shapes(text: str) -> None:
    assert "sql_injection" in kinds(text)


def test_short_url_encoded_injection_is_decoded() -> None:
    assert "encoded" in kinds("GET /items?id=9'%20OR%208=8--")


def test_sql_view_maps_back_to_the_original() -> None:
    text = "x'/*!50000UNION*/ s"
    view = reveal_sql(text)
    assert "UNION" in view.text
    assert "/*" not in view.text
    start = view.text.index("UNION")
    assert text[slice(*view.to_original(start, start + 5))] == "/*!50000UNION*/"
    assert not reveal_sql("no comments here").changed
