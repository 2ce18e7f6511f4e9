"""One rule set: a model's ``clean()`` hands its values to the pydantic model that validates the YAML
(linewatch/inventory.py, billing_etl/config.py) and turns its errors into Django field errors."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS
from django.core.exceptions import ValidationError as DjangoValidationError
from pydantic import BaseModel, TypeAdapter
from pydantic import ValidationError as PydanticValidationError

Loc = tuple[str | int, ...]


def field_errors(exc: PydanticValidationError, *, fields: Mapping[Loc, str], tags: Iterable[str] = (),
                 model_field: str = NON_FIELD_ERRORS) -> DjangoValidationError:
    """Map each pydantic error to the Django field named by the longest matching prefix of its location in
    ``fields`` (discriminator ``tags`` dropped from locations); a rule over several fields goes to
    ``model_field``."""
    tags = set(tags)
    out: dict[str, list[str]] = defaultdict(list)
    for err in exc.errors(include_url=False, include_input=False):
        loc = tuple(p for p in err["loc"] if p not in tags)
        target = model_field
        for n in range(len(loc), 0, -1):
            if loc[:n] in fields:
                target = fields[loc[:n]]
                break
        out[target].append(str(err["msg"]).removeprefix("Value error, "))
    return DjangoValidationError(dict(out))


def validate(model: type[BaseModel], data: dict[str, Any], **kwargs: Any) -> BaseModel:
    try:
        return model.model_validate(data)
    except PydanticValidationError as exc:
        raise field_errors(exc, **kwargs) from None


def validate_value(annotation: Any, value: Any, *, field: str) -> Any:
    """``value`` checked against a pydantic type (e.g. billing_etl's ``Currency``), errors on ``field``."""
    try:
        return TypeAdapter(annotation).validate_python(value)
    except PydanticValidationError as exc:
        raise field_errors(exc, fields={(): field}, model_field=field) from None
    except ValueError as exc:
        raise DjangoValidationError({field: [str(exc)]}) from None


def present(**values: Any) -> dict[str, Any]:
    """Only the values that are set, so the pydantic model applies its own defaults to the others."""
    return {k: v for k, v in values.items() if v is not None and v != ""}


def dated_versions(row: Any, saved: Iterable[Any]) -> tuple[list[dict[str, Any]], int]:
    """A version row (a capacity or contract change) among its parent's ``saved`` versions, as they would be with
    it (its stored self replaced): their ``as_config()`` by ``effective``, and the index of ``row`` in them (the
    location of its errors in the parent's pydantic model)."""
    versions = sorted([*(v for v in saved if row.pk is None or v.pk != row.pk), row], key=lambda v: v.effective)
    return [v.as_config() for v in versions], versions.index(row)
