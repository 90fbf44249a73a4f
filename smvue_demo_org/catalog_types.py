"""The demo org's catalog types: fields, objects, child relationships, the catalog itself.

schema.py builds the catalog; real_width.py widens its standard objects to their real field
lists. A compound field (``address``, ``location``) is not stored: its components are, and
``FieldDef.compound`` names the compound field a component belongs to (describe's
``compoundFieldName``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from smvue_demo_org.profile import OrgProfile

COMPOUND_TYPES = frozenset({"address", "location"})


@dataclass(frozen=True)
class FieldDef:
    name: str
    type: str  # describe type: id string textarea currency double percent int boolean date
    #            datetime picklist reference email phone url anyType
    label: str = ""
    reference_to: tuple[str, ...] = ()
    relationship_name: str | None = None
    custom: bool = False
    nillable: bool = True
    picklist: tuple[str, ...] = ()
    length: int = 0
    system: bool = False  # set by Salesforce, never by a user (Id, audit fields)
    compound: str | None = None  # the compound field this is a component of (BillingAddress)
    createable: bool | None = None  # as real describe says; None: derived from ``system``
    updateable: bool | None = None

    @property
    def stored(self) -> bool:
        """A column of its own; compound fields are assembled from their components."""
        return self.type not in COMPOUND_TYPES

    @property
    def sql_type(self) -> str:
        return {
            "boolean": "INTEGER",
            "int": "INTEGER",
            "double": "REAL",
            "currency": "REAL",
            "percent": "REAL",
        }.get(self.type, "TEXT")


@dataclass(frozen=True)
class ChildRelationship:
    child_sobject: str
    field: str
    relationship_name: str
    cascade_delete: bool = False


@dataclass
class ObjectDef:
    name: str
    key_prefix: str
    label: str
    label_plural: str
    fields: dict[str, FieldDef] = field(default_factory=dict)
    custom: bool = False
    child_relationships: list[ChildRelationship] = field(default_factory=list)
    replicateable: bool = True  # /updated and /deleted answer (getUpdated/getDeleted)
    api_hidden: frozenset[str] = frozenset()  # stored columns the API does not show

    def field(self, name: str) -> FieldDef | None:
        """Case-insensitive field lookup, as SOQL resolves names."""
        return self._lower.get(name.lower())

    @property
    def _lower(self) -> dict[str, FieldDef]:
        cache = self.__dict__.get("_lower_cache")
        if cache is None or len(cache) != len(self.fields):
            cache = {k.lower(): v for k, v in self.fields.items()}
            self.__dict__["_lower_cache"] = cache
        return cache

    def relationship(self, name: str) -> FieldDef | None:
        """The reference field whose relationship name is ``name`` (``Account`` → AccountId)."""
        for f in self.fields.values():
            if f.relationship_name and f.relationship_name.lower() == name.lower():
                return f
        return None

    def child_relationship(self, name: str) -> ChildRelationship | None:
        for rel in self.child_relationships:
            if rel.relationship_name.lower() == name.lower():
                return rel
        return None

    @property
    def has_system_modstamp(self) -> bool:
        return "SystemModstamp" in self.fields


@dataclass
class Catalog:
    objects: dict[str, ObjectDef]

    def get(self, name: str) -> ObjectDef | None:
        """Case-insensitive object lookup."""
        for obj_name, obj in self.objects.items():
            if obj_name.lower() == name.lower():
                return obj
        return None


    def visible(self, profile: OrgProfile) -> Catalog:
        """The catalog as the connected user sees it: FLS-hidden fields removed."""
        hidden: dict[str, set[str]] = {}
        for qualified in profile.hidden_fields:
            obj, fld = qualified.split(".")
            hidden.setdefault(obj.lower(), set()).add(fld.lower())
        objects = {}
        for name, obj in self.objects.items():
            gone = hidden.get(name.lower(), set()) | {f.lower() for f in obj.api_hidden}
            kept = {k: v for k, v in obj.fields.items() if k.lower() not in gone}
            objects[name] = ObjectDef(
                obj.name, obj.key_prefix, obj.label, obj.label_plural, kept, obj.custom,
                list(obj.child_relationships), obj.replicateable,
            )
        return Catalog(objects)
