"""Checks of an exported FHIR document by rules nobody here wrote: HL7's R4 JSON Schema
(``tests/fixtures/fhir-r4/fhir.schema.json``) and US Core 6's Patient invariants.

``schema_errors`` returns one line per schema violation; ``us_core_patient_errors`` one line per
broken US Core Patient rule (us-core-6: a name has a family or a given or a data-absent-reason;
identifier system and value, gender).
"""

from __future__ import annotations

import functools
import json
from typing import Any

from jsonschema import Draft6Validator
from repo_paths import FIXTURES

SCHEMA = FIXTURES / "fhir-r4" / "fhir.schema.json"


@functools.cache
def _validator() -> Draft6Validator:
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    return Draft6Validator(schema)


def _errors(validator: Draft6Validator, document: Any, prefix: str) -> list[str]:
    return [
        f"{prefix}{'/'.join(str(p) for p in error.absolute_path)}: {error.message[:200]}"
        for error in validator.iter_errors(document)
    ]


@functools.cache
def _resource_validator(resource_type: str) -> Draft6Validator:
    schema = _validator().schema
    return Draft6Validator({**schema, "$ref": f"#/definitions/{resource_type}"})


def schema_errors(document: dict[str, Any]) -> list[str]:
    """HL7 R4 JSON Schema violations of ``document`` (empty: it passes).

    The schema's ``ResourceList`` is a ``oneOf`` over every resource type told apart by the
    ``resourceType`` constant (its ``discriminator``); a Bundle's entries are checked against
    their own type's definition directly, which is the same check without trying ~150 others.
    """
    kind = document.get("resourceType")
    if kind != "Bundle":
        return _errors(_validator(), document, "")
    shell = {
        **document,
        "entry": [{k: v for k, v in e.items() if k != "resource"} for e in document.get("entry") or ()],
    }
    if not shell["entry"]:
        del shell["entry"]
    errors = _errors(_validator(), shell, "")
    for i, entry in enumerate(document.get("entry") or ()):
        resource = entry.get("resource")
        if resource is None:
            continue
        rtype = resource.get("resourceType")
        if rtype not in _validator().schema["discriminator"]["mapping"]:
            errors.append(f"entry/{i}/resource: unknown resourceType {rtype!r}")
            continue
        errors += _errors(_resource_validator(rtype), resource, f"entry/{i}/resource/")
    return errors


def us_core_patient_errors(patient: dict[str, Any]) -> list[str]:
    """US Core Patient (6.1) rules the app's data can meet."""
    errors = []
    names = patient.get("name") or []
    if not names:
        errors.append("Patient.name: at least one (US Core 1..*)")
    for i, name in enumerate(names):
        if not (name.get("family") or name.get("given") or name.get("extension")):
            errors.append(f"Patient.name[{i}]: us-core-6 needs family or given (or data-absent-reason)")
    identifiers = patient.get("identifier") or []
    if not identifiers:
        errors.append("Patient.identifier: at least one (US Core 1..*)")
    for i, identifier in enumerate(identifiers):
        if not identifier.get("system") or not identifier.get("value"):
            errors.append(f"Patient.identifier[{i}]: system and value are required (US Core 1..1)")
    if patient.get("gender") not in ("male", "female", "other", "unknown"):
        errors.append("Patient.gender: required (US Core 1..1)")
    return errors


def bundle_errors(bundle: dict[str, Any]) -> list[str]:
    """Schema errors of the Bundle plus US Core errors of each Patient in it."""
    errors = schema_errors(bundle)
    for entry in bundle.get("entry") or ():
        resource = entry.get("resource") or {}
        if resource.get("resourceType") == "Patient":
            errors += us_core_patient_errors(resource)
    return errors
