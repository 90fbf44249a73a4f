"""Salesforce's own Metadata WSDL (the one simple-salesforce ships, API 63.0) as an XSD validator.

Nobody on this project wrote that file, so an envelope it accepts is shaped the way Salesforce
expects, not just the way our demo org expects. The SOAP frame is checked against the SOAP 1.1
envelope schema xmlschema ships; each header and the call inside the Body against the WSDL's
schema, strictly (element order, required elements, xsi:type of every component).
"""

from __future__ import annotations

import functools
import re
from pathlib import Path
from xml.etree.ElementTree import Element

import defusedxml.ElementTree as SafeET
import simple_salesforce
import xmlschema
from xmlschema.extras.wsdl import Wsdl11Document

MD = "http://soap.sforce.com/2006/04/metadata"
SOAPENV = "http://schemas.xmlsoap.org/soap/envelope/"
WSDL = Path(simple_salesforce.__file__).with_name("metadata.wsdl")


@functools.cache
def metadata_schema() -> xmlschema.XMLSchemaBase:
    """The WSDL's ``<types>`` schema (loading it takes a few seconds: once per process)."""
    return Wsdl11Document(str(WSDL)).schema


def element_errors(element: Element) -> list[str]:
    """Every way ``element`` (a global element of the WSDL) breaks the schema."""
    return [f"{e.path}: {e.reason}" for e in
            metadata_schema().iter_errors(element, namespaces={"": MD})]


def envelope_errors(envelope: bytes) -> list[str]:
    """Every way a request or response envelope breaks the SOAP 1.1 frame (Envelope, optional
    Header, one Body) or the Metadata WSDL (each header and the call or answer in the Body)."""
    root = SafeET.fromstring(envelope, forbid_dtd=True)
    parts = [child.tag for child in root]
    frame = [f"{{{SOAPENV}}}Body"]
    if root.tag != f"{{{SOAPENV}}}Envelope" or parts not in (frame, [f"{{{SOAPENV}}}Header",
                                                                      *frame]):
        return [f"SOAP: not Envelope(Header?, Body) but {root.tag}{parts}"]
    errors = [] if len(root[-1]) == 1 else ["SOAP: the Body must hold exactly one element"]
    for part in root:
        errors += [error for child in part for error in element_errors(child)]
    return errors


def wsdl_version() -> str:
    """The API version named in the WSDL's opening comment (e.g. 63.0)."""
    found = re.search(r"API version (\d+\.\d+)", WSDL.read_text(encoding="utf-8")[:400])
    return found.group(1) if found else "unknown"
