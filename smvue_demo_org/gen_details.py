"""Realistic values for the fields real-width objects add: addresses, phones, ratings, ...

Drawn from their own random stream (``Gen.details``), so adding or changing a detail never moves
the main stream that decides deals, owners and dates. Every function returns the extra fields of
one record; the generator merges them into the row it already built.
"""

from __future__ import annotations

import random
from typing import Any

from smvue_demo_org.gen_support import CITIES

# city → (state or region, postal code pattern (# = digit), latitude, longitude)
PLACES: dict[str, tuple[str | None, str, float, float]] = {
    "San Francisco": ("CA", "941##", 37.7749, -122.4194),
    "New York": ("NY", "100##", 40.7128, -74.0060),
    "Austin": ("TX", "787##", 30.2672, -97.7431),
    "Chicago": ("IL", "606##", 41.8781, -87.6298),
    "Seattle": ("WA", "981##", 47.6062, -122.3321),
    "Toronto": ("ON", "M5V #A#", 43.6532, -79.3832),
    "London": (None, "EC#A #BB", 51.5074, -0.1278),
    "Berlin": ("Berlin", "10###", 52.5200, 13.4050),
    "Paris": ("Île-de-France", "750##", 48.8566, 2.3522),
    "Amsterdam": ("North Holland", "10## AB", 52.3676, 4.9041),
    "Tokyo": ("Tokyo", "100-00##", 35.6762, 139.6503),
    "Sydney": ("NSW", "2000", -33.8688, 151.2093),
    "Singapore": (None, "0189##", 1.3521, 103.8198),
    "São Paulo": ("SP", "01###-000", -23.5505, -46.6333),
}
STREETS = ("Market", "Main", "Oak", "Maple", "Harbor", "Mission", "King", "Queen", "Station",
           "Park", "River", "Hill", "Church", "Mill", "Bridge", "Elm", "Cedar", "Lake")
SUFFIXES = ("Street", "Avenue", "Road", "Boulevard", "Way", "Lane", "Drive", "Plaza")
CALLING_CODES = {"USA": "+1", "Canada": "+1", "UK": "+44", "Germany": "+49", "France": "+33",
                 "Netherlands": "+31", "Japan": "+81", "Australia": "+61", "Singapore": "+65",
                 "Brazil": "+55"}
SIC = (("7372", "Prepackaged Software"), ("6021", "National Commercial Banks"),
       ("8062", "General Medical and Surgical Hospitals"), ("3711", "Motor Vehicles"),
       ("5411", "Grocery Stores"), ("4911", "Electric Services"), ("4813", "Telephone "
       "Communications"), ("8221", "Colleges and Universities"), ("6311", "Life Insurance"))
DEPARTMENTS = ("Finance", "IT", "Operations", "Procurement", "Engineering", "Sales", "Marketing",
               "Legal", "Executive")
SOURCES = ("Web", "Phone Inquiry", "Partner Referral", "Purchased List", "Trade Show", "Other")
SALUTATIONS = ("Mr.", "Ms.", "Mrs.", "Dr.", "Prof.")


def _digits(rng: random.Random, pattern: str) -> str:
    return "".join(str(rng.randrange(10)) if ch == "#" else ch for ch in pattern)


def phone(rng: random.Random, country: str) -> str:
    code = CALLING_CODES.get(country, "+1")
    if code == "+1":
        return f"(5{rng.randrange(10)}{rng.randrange(10)}) 555-{rng.randrange(10000):04d}"
    return f"{code} {rng.randrange(10, 99)} {rng.randrange(1000, 9999)} {rng.randrange(1000, 9999)}"


def address(rng: random.Random, prefix: str, city: str, country: str) -> dict[str, Any]:
    """The components of one compound address (``prefix`` Billing, Mailing, ... or "")."""
    state, postal, lat, lon = PLACES.get(city, (None, "#####", 0.0, 0.0))
    street = f"{rng.randint(1, 2400)} {rng.choice(STREETS)} {rng.choice(SUFFIXES)}"
    if rng.random() < 0.15:
        street += f"\nSuite {rng.randint(100, 990)}"
    geocoded = rng.random() < 0.8  # Data.com/Maps clean rules fill these in for most records
    return {
        f"{prefix}Street": street, f"{prefix}City": city, f"{prefix}State": state,
        f"{prefix}PostalCode": _digits(rng, postal), f"{prefix}Country": country,
        f"{prefix}Latitude": round(lat + rng.uniform(-0.05, 0.05), 6) if geocoded else None,
        f"{prefix}Longitude": round(lon + rng.uniform(-0.05, 0.05), 6) if geocoded else None,
        f"{prefix}GeocodeAccuracy": rng.choice(("Address", "NearAddress", "Street", "Zip"))
        if geocoded else None,
    }


def _place(rng: random.Random) -> tuple[str, str]:
    return rng.choice(CITIES)


def account(rng: random.Random, index: int, name: str, city: str,
            country: str) -> dict[str, Any]:
    sic, sic_desc = rng.choice(SIC)
    public = rng.random() < 0.2
    out = {
        **address(rng, "Billing", city, country),
        "Phone": phone(rng, country), "Fax": phone(rng, country) if rng.random() < 0.3 else None,
        "AccountNumber": f"CD{700000 + index}", "Sic": sic, "SicDesc": sic_desc,
        "Ownership": "Public" if public else rng.choice(("Private", "Subsidiary", "Other")),
        "TickerSymbol": name.split()[0][:4].upper() if public else None,
        "Rating": rng.choice(("Hot", "Warm", "Cold", None)),
        "Site": rng.choice(("Headquarters", "Branch", "Regional Office", None)),
        "AccountSource": rng.choice(SOURCES), "YearStarted": str(rng.randint(1950, 2022)),
        "DunsNumber": f"{rng.randrange(10**9):09d}",
        "Description": f"{name}: {sic_desc.lower()}." if rng.random() < 0.4 else None,
    }
    if rng.random() < 0.7:  # most ship where they bill
        shipping = {k.replace("Billing", "Shipping"): v for k, v in out.items()
                    if k.startswith("Billing")}
    else:
        ship_city, ship_country = _place(rng)
        shipping = address(rng, "Shipping", ship_city, ship_country)
    return {**out, **shipping}


def contact(rng: random.Random) -> dict[str, Any]:
    city, country = _place(rng)
    out = {
        "Salutation": rng.choice(SALUTATIONS), **address(rng, "Mailing", city, country),
        "MobilePhone": phone(rng, country),
        "HomePhone": phone(rng, country) if rng.random() < 0.2 else None,
        "Department": rng.choice(DEPARTMENTS), "LeadSource": rng.choice(SOURCES),
        "Birthdate": f"{rng.randint(1955, 2000)}-{rng.randint(1, 12):02d}-"
                     f"{rng.randint(1, 28):02d}" if rng.random() < 0.3 else None,
        "AssistantName": rng.choice(("Jamie Fox", "Robin Park", "Alex Kim"))
        if rng.random() < 0.1 else None,
    }
    if rng.random() < 0.1:
        other_city, other_country = _place(rng)
        out.update(address(rng, "Other", other_city, other_country))
    return out


def lead(rng: random.Random, industries: tuple[str, ...]) -> dict[str, Any]:
    city, country = _place(rng)
    return {
        "Salutation": rng.choice(SALUTATIONS), **address(rng, "", city, country),
        "Phone": phone(rng, country),
        "MobilePhone": phone(rng, country) if rng.random() < 0.5 else None,
        "Industry": rng.choice(industries), "Rating": rng.choice(("Hot", "Warm", "Cold")),
        "AnnualRevenue": float(rng.randint(1, 2000) * 50_000),
        "NumberOfEmployees": rng.randint(5, 20_000),
        "Website": f"https://www.lead{rng.randrange(10**6)}.example.com",
        "IsUnreadByOwner": int(rng.random() < 0.3),
    }


def user(rng: random.Random, first: str, last: str, counter: int) -> dict[str, Any]:
    city, country = _place(rng)
    return {
        "Alias": (first[:1] + last[:4]).lower(), "CommunityNickname": f"{first}.{last}{counter}",
        "CompanyName": "Demo Org", **address(rng, "", city, country),
        "Phone": phone(rng, country), "MobilePhone": phone(rng, country),
        "Extension": str(rng.randint(100, 999)), "EmployeeNumber": f"E{10000 + counter}",
        "LocaleSidKey": "en_US", "LanguageLocaleKey": "en_US", "EmailEncodingKey": "UTF-8",
        "ForecastEnabled": int(rng.random() < 0.5),
    }
