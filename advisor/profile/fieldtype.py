"""The type of a profile field as the rule language sees it; profile.schema derives each field's from the models.

A module of its own, without the models: the compiled rules the rules cache keeps hold these, and unpickling them
should not import the models (nor pydantic's machinery for them).
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class FieldType:
    """The type of one profile field as the rule language sees it."""

    kind: str  # bool | int | number | str | enum | date | object | list | collection
    values: tuple[str, ...] = ()  # allowed values of an enum (or of the items of a list of enums)
    item: FieldType | None = None  # the item type of a list
    fields: dict[str, FieldType] = field(default_factory=dict)  # sub-fields of an object or collection item

    @property
    def is_scalar(self) -> bool:
        return self.kind in ("bool", "int", "number", "str", "enum", "date")

    def describe(self) -> str:
        if self.kind == "enum":
            return "one of " + ", ".join(self.values)
        if self.kind == "list":
            return f"a list of {self.item.describe() if self.item else 'values'}"
        if self.kind == "collection":
            return "a list of items"
        return {"bool": "true or false", "int": "a whole number", "number": "a number", "str": "text", "date": "a date", "object": "a section"}[self.kind]
