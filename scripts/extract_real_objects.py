"""Rebuild smvue_demo_org/real_objects/*.json from NetCoreForce's describe-generated models.

NetCoreForce (github.com/anthonyreilly/NetCoreForce) generates one C# class per sObject from a real
org's describe; each property's comment carries the describe facts (label, name, type, nillable,
createable/updateable, referenceTo, relationshipName). This script reads those comments only —
schema facts, no code — and writes one JSON file per object with the source beside the fields.

    python scripts/extract_real_objects.py /path/to/NetCoreForce/checkout
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

REPO = "anthonyreilly/NetCoreForce"
OBJECTS = ("Account", "BusinessProcess", "Contact", "EmailMessage", "Event", "Lead",
           "LeadHistory", "Opportunity", "OpportunityContactRole", "OpportunityFieldHistory",
           "OpportunityHistory", "OpportunityStage", "Organization", "RecordType", "Task", "User")
_BLOCK = re.compile(r"///<summary>\s*\n(.*?)///</summary>\s*\n(.*?)public ", re.S)


def _para(text: str, key: str) -> str | None:
    m = re.search(rf"<para>{key}: ([^<]*)</para>", text)
    return m.group(1).strip() if m else None


def extract(text: str) -> tuple[str, list[dict[str, object]]]:
    version = re.search(r"SF API version v(\d+\.\d+)", text)
    fields: list[dict[str, object]] = []
    for doc, attrs in _BLOCK.findall(text):
        ref = re.search(r"/// ReferenceTo: (\S+)", doc)
        if ref and fields:  # the relationship property after its Id field
            fields[-1]["referenceTo"] = ref.group(1).split(",")
            fields[-1]["relationshipName"] = _para(doc, "RelationshipName")
            continue
        name, sftype = _para(doc, "Name"), _para(doc, "SF Type")
        if not name or not sftype:
            continue
        label = doc.strip().splitlines()[0].removeprefix("///").strip()
        readonly = "Updateable(false)" in attrs
        fields.append({
            "name": name, "label": label, "type": sftype,
            "nillable": _para(doc, "Nillable") == "True",
            "createable": "Createable(false)" not in attrs, "updateable": not readonly,
        })
    return (version.group(1) if version else "?"), fields


def main(checkout: Path) -> None:
    commit = subprocess.run(["git", "-C", str(checkout), "rev-parse", "HEAD"], check=True,
                            capture_output=True, text=True).stdout.strip()
    out = Path(__file__).resolve().parents[1] / "smvue_demo_org" / "real_objects"
    for name in OBJECTS:
        path = f"src/NetCoreForce.Models/Sf{name}.cs"
        text = subprocess.run(["git", "-C", str(checkout), "show", f"HEAD:{path}"], check=True,
                              capture_output=True, text=True).stdout
        version, fields = extract(text)
        body = {"object": name,
                "source": {"repository": REPO, "path": path, "commit": commit,
                           "api_version": version,
                           "what": "describe of a real org, as NetCoreForce's model generator "
                                   "wrote it (no custom fields, no multi-currency)"},
                "fields": fields}
        (out / f"{name}.json").write_text(json.dumps(body, indent=1) + "\n")
        print(f"{name}: {len(fields)} fields (API {version})")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
