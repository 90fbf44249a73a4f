"""Fuzzing the Outbound Message parser: it returns a valid message or raises OutboundMessageError.

Every parse runs with sockets, urllib and file opening patched to fail, so an attempted fetch of
an external entity or DTD would surface as an escaping error instead of passing silently.
"""

from __future__ import annotations

import builtins
import io
import os
import re
import socket
import urllib.request
from contextlib import ExitStack
from unittest import mock
from xml.sax.saxutils import escape, quoteattr

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from smvue_tui.salesforce.outbound import OutboundMessage, OutboundMessageError, parse_notifications
from tests.unit.salesforce.outbound_samples import (
    VALID,
    deal_id,
    envelope,
    many,
    notification_xml,
)

FUZZ = settings(max_examples=150, deadline=None, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
_ID = re.compile(r"[A-Za-z0-9]{15}([A-Za-z0-9]{3})?")


class Attempted(BaseException):
    """Raised by the patched I/O; a BaseException so no ``except Exception`` can hide it."""


def _forbidden(*_args, **_kwargs):
    raise Attempted("network or file access attempted during parsing")


def parse_isolated(body: bytes) -> OutboundMessage | OutboundMessageError:
    """Parse with all I/O refused; return the message or the typed error (others escape)."""
    with ExitStack() as stack:
        for target, name in [(socket.socket, "connect"), (socket, "create_connection"),
                             (socket, "getaddrinfo"), (urllib.request, "urlopen"),
                             (builtins, "open"), (io, "open"), (os, "open")]:
            stack.enter_context(mock.patch.object(target, name, _forbidden))
        try:
            msg = parse_notifications(body)
        except OutboundMessageError as exc:
            assert len(str(exc)) < 300  # never echoes the input
            return exc
    assert _ID.fullmatch(msg.organization_id) and _ID.fullmatch(msg.action_id)
    assert 1 <= len(msg.notifications) <= 100
    for n in msg.notifications:
        assert _ID.fullmatch(n.id)
        assert re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*", n.sobject_type)
        assert all(isinstance(k, str) and (v is None or isinstance(v, str))
                   for k, v in n.fields.items())
    return msg


def test_truncation_at_every_position():
    full = parse_isolated(VALID)
    assert isinstance(full, OutboundMessage)
    end = len(VALID.rstrip())
    for cut in range(len(VALID)):
        result = parse_isolated(VALID[:cut])
        if cut < end:
            assert isinstance(result, OutboundMessageError), cut
        else:
            assert result == full


@FUZZ
@given(st.binary(max_size=4000))
def test_random_bytes(body):
    parse_isolated(body)


@FUZZ
@given(st.lists(st.tuples(st.integers(0, len(VALID)), st.sampled_from("dir"),
                          st.binary(min_size=1, max_size=8)), min_size=1, max_size=12))
def test_mutated_sample(edits):
    body = bytearray(VALID)
    for pos, op, data in edits:
        pos = min(pos, len(body))
        if op == "d":
            del body[pos:pos + len(data)]
        elif op == "i":
            body[pos:pos] = data
        else:
            body[pos:pos + len(data)] = data
    parse_isolated(bytes(body))


LEAD_ID = deal_id(7, "Lead")
_XML_TEXT = st.text(st.characters(blacklist_categories=("Cs", "Cc", "Cn")) | st.sampled_from(
    "\t\n<>&'\""), max_size=60)


@FUZZ
@given(st.dictionaries(st.from_regex(r"[A-Za-z][A-Za-z0-9_]{0,20}", fullmatch=True),
                       st.none() | _XML_TEXT, max_size=8),
       st.sampled_from(["sf", "ns0", "q"]), st.integers(1, 3))
def test_generated_valid_messages_round_trip(fields, prefix, count):
    fields = {k: v for k, v in fields.items() if k not in ("Id", "SystemModstamp")}
    fields["Id"] = LEAD_ID
    parts = []
    for name, value in fields.items():
        if value is None:
            parts.append(f'<{prefix}:{name} xsi:nil="true"/>')
        else:
            parts.append(f"<{prefix}:{name}>{escape(value)}</{prefix}:{name}>")
    item = (f'<Notification><Id>04lXX0000ABC000YQD</Id><sObject xsi:type="{prefix}:Lead" '
            f'xmlns:{prefix}="urn:sobject.enterprise.soap.sforce.com">{"".join(parts)}'
            "</sObject></Notification>")
    msg = parse_isolated(envelope(item * count))
    assert isinstance(msg, OutboundMessage)
    assert len(msg.notifications) == count
    assert msg.notifications[0].sobject_type == "Lead"
    assert msg.notifications[0].fields == fields


@settings(FUZZ, max_examples=40)
@given(st.integers(0, 130))
def test_notification_counts(n):
    result = parse_isolated(many(n))
    assert isinstance(result, OutboundMessage) == (1 <= n <= 100)


@FUZZ
@given(st.sampled_from([
    "http://soap.sforce.com/2005/09/outbound/", "http://soap.sforce.com/2006/04/metadata",
    "urn:enterprise.soap.sforce.com", "", "HTTP://SOAP.SFORCE.COM/2005/09/OUTBOUND",
]), st.booleans())
def test_wrong_namespaces(ns, on_envelope):
    if on_envelope:
        body = VALID.replace(b"http://schemas.xmlsoap.org/soap/envelope/", ns.encode() or b"x")
    else:
        body = envelope(ns=ns)
    assert isinstance(parse_isolated(body), OutboundMessageError)


@pytest.mark.parametrize("doctype", [
    '<!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>',
    '<!DOCTYPE x [<!ENTITY xxe SYSTEM "http://127.0.0.1:9/secret">]>',
    '<!DOCTYPE x [<!ENTITY % p SYSTEM "http://127.0.0.1:9/p.dtd"> %p;]>',
    '<!DOCTYPE x SYSTEM "file:///etc/passwd">',
    '<!DOCTYPE x PUBLIC "-//X//DTD X//EN" "http://127.0.0.1:9/x.dtd">',
    "<!DOCTYPE x [" + "".join(
        f'<!ENTITY l{i} "{f"&l{i - 1};" * 10 if i else "lol"}">' for i in range(10)) + "]>",
    '<!DOCTYPE x [<!ELEMENT x ANY>]>',
])
@pytest.mark.parametrize("use", ["&xxe;", "&l9;", ""])
def test_hostile_doctypes(doctype, use):
    body = envelope(notification_xml(0).replace("Acme &amp; Co", use),
                    prolog=f'<?xml version="1.0"?>\n{doctype}\n')
    assert isinstance(parse_isolated(body), OutboundMessageError)


def test_deep_nesting_inside_a_field():
    depth = 100_000
    deep = "<x>" * depth + "</x>" * depth
    body = envelope(notification_xml(0).replace("Acme &amp; Co", deep))
    result = parse_isolated(body)
    assert isinstance(result, OutboundMessage)  # parsed; the nested junk is not a field value
    assert result.notifications[0].fields["Name"] == ""


def test_deep_nesting_instead_of_the_envelope():
    depth = 120_000
    assert isinstance(parse_isolated(b"<a>" * depth + b"</a>" * depth), OutboundMessageError)


@pytest.mark.parametrize("size", [10_000, 900_000, 1_000_001])
def test_huge_attribute_values(size):
    attr = quoteattr("A" * size)
    body = envelope(notification_xml(0).replace("<sf:Amount>", f"<sf:Amount junk={attr}>"))
    result = parse_isolated(body)
    assert isinstance(result, OutboundMessage) == (len(body) <= 1_000_000)


@FUZZ
@given(st.sampled_from(['<?pi data?>', "<!-- c -->", "<![CDATA[]]>", "<![CDATA[x]]>",
                        '<?xml-stylesheet href="file:///etc/passwd"?>']),
       st.integers(0, len(VALID)))
def test_processing_instructions_comments_and_cdata_anywhere(snippet, pos):
    parse_isolated(VALID[:pos] + snippet.encode() + VALID[pos:])
