"""Metadata API SOAP answers shaped like Salesforce's (results, faults, records)."""

from __future__ import annotations

from xml.sax.saxutils import escape

MD = "http://soap.sforce.com/2006/04/metadata"
TOKEN = "00DXX0000001abc!AQ4AQFakeAccessTokenValue.xyz"
_HEAD = '<?xml version="1.0" encoding="UTF-8"?>'


def response(operation: str, inner: str) -> bytes:
    return (f'{_HEAD}<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"'
            f' xmlns="{MD}" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
            f"<soapenv:Body><{operation}Response>{inner}</{operation}Response>"
            "</soapenv:Body></soapenv:Envelope>").encode()


def result(full_name: str, errors: list[tuple[str, str]] = (), created: bool | None = None,
           fields: tuple[str, ...] = ()) -> str:
    """A SaveResult/DeleteResult, or an UpsertResult when ``created`` is given (WSDL order)."""
    parts = "" if created is None else f"<created>{str(created).lower()}</created>"
    for code, message in errors:
        parts += ("<errors>" + "".join(f"<fields>{f}</fields>" for f in fields)
                  + f"<message>{escape(message)}</message><statusCode>{code}</statusCode>"
                  "</errors>")
    success = "false" if errors else "true"
    return f"<result>{parts}<fullName>{full_name}</fullName><success>{success}</success></result>"


def fault(code: str, message: str, *, detail: bool = True) -> bytes:
    extra = ""
    if detail and code.startswith("sf:"):
        extra = (f'<detail><sf:UnexpectedErrorFault xsi:type="sf:UnexpectedErrorFault">'
                 f"<sf:exceptionCode>{code[3:]}</sf:exceptionCode>"
                 f"<sf:exceptionMessage>{escape(message)}</sf:exceptionMessage>"
                 "</sf:UnexpectedErrorFault></detail>")
    return (f'{_HEAD}<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"'
            f' xmlns:sf="{MD}" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
            f"<soapenv:Body><soapenv:Fault><faultcode>{code}</faultcode>"
            f"<faultstring>{escape(message)}</faultstring>{extra}</soapenv:Fault>"
            "</soapenv:Body></soapenv:Envelope>").encode()


INVALID_SESSION = fault("sf:INVALID_SESSION_ID",
                        "INVALID_SESSION_ID: Invalid Session ID found in SessionHeader: "
                        "Illegal Session")
