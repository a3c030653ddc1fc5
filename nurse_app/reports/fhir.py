"""One visit as a FHIR R4 Bundle, for the agency's record system (EHR).

Built with the ``fhir.resources`` model classes, which validate every element as it
is made (types, required fields, cardinality), and the finished JSON is parsed
back into a ``Bundle`` before it is written, so a file that leaves the app is one
the library accepts.  ``fhir.resources`` 7 and later model FHIR R5 by default; we
use its ``fhir.resources.R4B`` subpackage.  R4B is wire-compatible with R4 for
every resource used here (Patient, Encounter, Medication, MedicationAdministration,
Observation, AllergyIntolerance, AdverseEvent, Bundle), so the JSON is FHIR R4.

The Bundle (type ``collection``) holds:

* **Patient** -- MRN (identifier type MR; system from the agency's ``mrn_system``
  detail (:mod:`nurse_app.core.agency`), else ``urn:nurse-app:mrn``), name, sex, date of birth.
* **Encounter** -- a home-health visit (v3 ActCode HH) with its time period and nurse.
* **MedicationAdministration** -- the day's dose in grams (UCUM ``g``), route
  intravenous (SNOMED CT 47625008).  The product is a contained Medication.  FHIR R4
  gives a Medication a single ``batch``, so: when every vial came from one lot that
  lot is the Medication's ``batch``; and every lot (number, expiry, vial size,
  vial count) is always listed in the :data:`LOT_EXTENSION` extension on the
  dosage and in a note, because an IVIG dose is often drawn from several lots.
* **Observation** -- one per vital sign per reading, category ``vital-signs``,
  LOINC coded: body temperature 8310-5, heart rate 8867-4, respiratory rate
  9279-1, SpO2 59408-5 (with 2708-6), the blood pressure panel 85354-9 with
  systolic 8480-6 and diastolic 8462-4 components, and the weight used (29463-7).
  Abnormal values carry an interpretation (H, L, or A for a change from baseline).
  ``final`` on a signed visit, ``preliminary`` on a draft.
* **AllergyIntolerance** -- one per allergy recorded for the patient; "no known allergies"
  (:mod:`nurse_app.core.allergies`) is one entry coded SNOMED CT 716186003; allergies
  never recorded send none.
* **AdverseEvent** -- one per reaction, with severity, outcome, and the action
  taken in its narrative (R4 AdverseEvent has no field for it).

Identifiers are stable ``urn:uuid`` values (UUID v5) derived from the visit id and
its creation time (and the MRN for the patient), so exporting the same visit twice
gives the same ids and the receiving system can recognise a re-send.
"""

from __future__ import annotations

import html
import uuid
from collections import Counter
from collections.abc import Iterable
from typing import Any

from fhir.resources.R4B.adverseevent import AdverseEvent, AdverseEventSuspectEntity
from fhir.resources.R4B.allergyintolerance import AllergyIntolerance
from fhir.resources.R4B.annotation import Annotation
from fhir.resources.R4B.bundle import Bundle, BundleEntry
from fhir.resources.R4B.codeableconcept import CodeableConcept
from fhir.resources.R4B.coding import Coding
from fhir.resources.R4B.communication import Communication, CommunicationPayload
from fhir.resources.R4B.encounter import Encounter, EncounterParticipant
from fhir.resources.R4B.extension import Extension
from fhir.resources.R4B.humanname import HumanName
from fhir.resources.R4B.identifier import Identifier
from fhir.resources.R4B.medication import Medication, MedicationBatch
from fhir.resources.R4B.medicationadministration import (
    MedicationAdministration,
    MedicationAdministrationDosage,
    MedicationAdministrationPerformer,
)
from fhir.resources.R4B.narrative import Narrative
from fhir.resources.R4B.observation import Observation, ObservationComponent
from fhir.resources.R4B.patient import Patient
from fhir.resources.R4B.period import Period
from fhir.resources.R4B.quantity import Quantity
from fhir.resources.R4B.reference import Reference

from nurse_app.core import infusion_record
from nurse_app.core.agency import MRN_SYSTEM
from nurse_app.core.allergies import NONE_KNOWN, NONE_KNOWN_TEXT
from nurse_app.core.catalogue import Catalogue, load_catalogue
from nurse_app.core.errors import NurseAppError
from nurse_app.core.formatting import fmt_qty
from nurse_app.core.reactions import kind_label, severity_label
from nurse_app.core.times import now_text
from nurse_app.core.visit_logic import visit_moment
from nurse_app.core.visit_record import VisitRecord
from nurse_app.core.vitals import VITAL_MEASURES, flag_series, reading_measures
from nurse_app.reports import fhir_proof
from nurse_app.reports.visit_data import order_mismatch


def _status(outcome, end) -> str:
    """MedicationAdministration.status from the infusion outcome (core.infusion_record)."""
    if outcome.status == infusion_record.STOPPED:
        return "stopped"
    if outcome.status == infusion_record.COMPLETED:
        return "completed"
    if outcome.status == infusion_record.NOT_STARTED:
        return "completed" if end else "in-progress"
    return "in-progress"


# Fixed namespace for our UUID v5 ids (never change it: ids would change with it).
NAMESPACE = uuid.UUID("5d1f3c3e-8a7b-5b8e-9c61-2f0e4a6b7c10")
DEFAULT_MRN_SYSTEM = "urn:nurse-app:mrn"
PRODUCT_SYSTEM = "urn:nurse-app:product"
LOT_EXTENSION = "urn:nurse-app:fhir:StructureDefinition:product-lot"

LOINC = "http://loinc.org"
SNOMED = "http://snomed.info/sct"
UCUM = "http://unitsofmeasure.org"
IV_ROUTE = ("47625008", "Intravenous route")
_CATEGORY = ("http://terminology.hl7.org/CodeSystem/observation-category", "vital-signs", "Vital Signs")
_INTERPRETATION = "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation"
_INTERPRETATIONS = {"high": ("H", "High"), "low": ("L", "Low"), "change": ("A", "Abnormal")}
_ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
_ALLERGY_CLINICAL = "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical"
_ALLERGY_VERIFICATION = "http://terminology.hl7.org/CodeSystem/allergyintolerance-verification"
NO_KNOWN_ALLERGY = ("716186003", "No known allergy")
_AE_SEVERITY = "http://terminology.hl7.org/CodeSystem/adverse-event-severity"
_XHTML = "http://www.w3.org/1999/xhtml"

# Store column -> (LOINC codes (code, display), UCUM code, unit shown).  SpO2 carries
# the pulse-oximetry code and the general one, as the US Core / vital-signs profiles do.
VITAL_CODES: dict[str, tuple[tuple[tuple[str, str], ...], str, str]] = {
    "temperature_c": ((("8310-5", "Body temperature"),), "Cel", "°C"),
    "heart_rate": ((("8867-4", "Heart rate"),), "/min", "/min"),
    "respiratory_rate": ((("9279-1", "Respiratory rate"),), "/min", "/min"),
    "spo2_percent": (
        (
            ("59408-5", "Oxygen saturation in Arterial blood by Pulse oximetry"),
            ("2708-6", "Oxygen saturation in Arterial blood"),
        ),
        "%",
        "%",
    ),
}
BP_PANEL = ("85354-9", "Blood pressure panel with all children optional")
BP_PARTS = {
    "systolic_mmhg": ("8480-6", "Systolic blood pressure"),
    "diastolic_mmhg": ("8462-4", "Diastolic blood pressure"),
}
BODY_WEIGHT = ("29463-7", "Body weight")


def _uuid(*parts: Any) -> str:
    return str(uuid.uuid5(NAMESPACE, "/".join(str(p) for p in parts)))


def _ref(resource) -> Reference:
    return Reference(reference=f"urn:uuid:{resource.id}")


def _concept(system: str, codes: Iterable[tuple[str, str]], text: str | None = None) -> CodeableConcept:
    return CodeableConcept(coding=[Coding(system=system, code=c, display=d) for c, d in codes], text=text)


def _quantity(value: float, ucum: str, unit: str, decimals: int = 2) -> Quantity:
    return Quantity(value=round(float(value), decimals), unit=unit, system=UCUM, code=ucum)


def _narrative(lines: Iterable[str]) -> Narrative:
    body = "".join(f"<p>{html.escape(line)}</p>" for line in lines if line)
    return Narrative(status="generated", div=f'<div xmlns="{_XHTML}">{body}</div>')


class _Builder:
    """Builds the resources of one visit; keeps the shared references."""

    def __init__(self, record: VisitRecord):
        self.record = record
        visit = record.visit
        self.key = f"visit/{visit['id']}/{visit['created_at']}"
        self.final = record.signed
        self.patient = self._patient()
        self.place = fhir_proof.location(self)
        self.encounter = self._encounter()
        self.nurse = Reference(display=record.nurse) if record.nurse else None
        self.catalogue: Catalogue | None
        try:
            self.catalogue = load_catalogue()
        except NurseAppError:  # names then fall back to the stored ids
            self.catalogue = None

    def id(self, *parts: Any) -> str:
        return _uuid(self.key, *parts)

    # ------------------------------------------------------------------ patient, encounter

    def _patient(self) -> Patient:
        p = self.record.patient
        system = self.record.settings.get(MRN_SYSTEM) or DEFAULT_MRN_SYSTEM
        return Patient(
            id=_uuid("patient", system, p["mrn"]),
            identifier=[
                Identifier(
                    use="usual",
                    system=system,
                    value=p["mrn"],
                    type=_concept(
                        "http://terminology.hl7.org/CodeSystem/v2-0203", [("MR", "Medical record number")]
                    ),
                )
            ],
            name=[HumanName(use="official", text=p["name"])],
            gender=p["sex"] if p["sex"] in ("female", "male", "other", "unknown") else "unknown",
            birthDate=p["date_of_birth"],
            **fhir_proof.patient_details(p),
        )

    def _encounter(self) -> Encounter:
        visit = self.record.visit
        period = Period(start=visit.get("started_at") or visit.get("scheduled_at"), end=visit.get("ended_at"))
        agency = self.record.settings.get("agency")
        return Encounter(
            id=self.id("encounter"),
            identifier=[Identifier(system="urn:nurse-app:visit", value=str(visit["id"]))],
            status="finished"
            if visit.get("ended_at")
            else ("in-progress" if visit.get("started_at") else "planned"),
            class_fhir=Coding(system=_ACT_CODE, code="HH", display="home health"),
            type=[CodeableConcept(text="Home IVIG infusion visit")],
            subject=_ref(self.patient),
            participant=[EncounterParticipant(individual=Reference(display=self.record.nurse))]
            if self.record.nurse
            else None,
            period=period if period.start else None,
            location=fhir_proof.encounter_location(self.place),
            serviceProvider=Reference(display=agency) if agency else None,
        )

    def _when(self) -> str:
        return visit_moment(self.record.visit) or self.record.visit["created_at"]

    # ------------------------------------------------------------------ medication

    def _product_name(self, product_id: str) -> str:
        calc = self.record.calculation
        product = self.catalogue.products.get(product_id) if self.catalogue else None
        if product is not None:
            return product.display_name
        brand = calc.get("product_brand") if calc.get("product") == product_id else None
        return str(brand or product_id)

    def administration(self) -> MedicationAdministration:
        record, calc = self.record, self.record.calculation
        product_id = (
            (record.order or {}).get("product_id")
            or calc.get("product")
            or (record.lots[0]["product_id"] if record.lots else None)
        )
        name = self._product_name(product_id) if product_id else "Immune globulin"
        lots = record.lots
        medication = Medication(
            id="medication",
            code=CodeableConcept(
                coding=[Coding(system=PRODUCT_SYSTEM, code=product_id, display=name)] if product_id else None,
                text=f"{name} (immune globulin intravenous, human)",
            ),
            batch=MedicationBatch(lotNumber=lots[0]["lot_number"], expirationDate=lots[0]["expiry_date"])
            if len({lot["lot_number"] for lot in lots}) == 1
            else None,
        )
        lot_text = "; ".join(
            f"lot {lot['lot_number']} (expires {lot['expiry_date']}): "
            f"{lot['vial_count']} × {fmt_qty(lot['vial_size_g'], 'g')}"
            for lot in lots
        )
        dose_text = []
        if calc.get("daily_dose_g") is not None:
            dose_text.append(f"{fmt_qty(calc['daily_dose_g'], 'g')} intravenous")
        if calc.get("daily_volume_ml") is not None:
            dose_text.append(f"{fmt_qty(calc['daily_volume_ml'], 'mL')}")
        steps = [s["ml_per_h"] for s in calc.get("rate_steps") or []]
        if steps:
            dose_text.append(f"rate {fmt_qty(min(steps), 'mL/h')} rising to {fmt_qty(max(steps), 'mL/h')}")
        # The dose is what was given (the volume infused at stop/finish), not what was planned.
        outcome = record.outcome
        given_g = infusion_record.grams_given(outcome.volume_ml, calc)
        if given_g is not None and outcome.volume_ml is not None:
            dose_text.insert(
                0,
                f"given {fmt_qty(given_g, 'g', 2)} in {fmt_qty(outcome.volume_ml, 'mL', 0)} "
                f"({outcome.label}); planned",
            )
        dose_g = given_g if given_g is not None else calc.get("daily_dose_g")
        dosage = MedicationAdministrationDosage(
            text=", ".join(dose_text) or None,
            route=_concept(SNOMED, [IV_ROUTE]),
            dose=_quantity(round(dose_g, 2), "g", "g") if dose_g is not None else None,
            extension=[self._lot_extension(lot) for lot in lots] or None,
        )
        # The infusion's own times (the visit's arrival and departure are Encounter.period).
        start, end = fhir_proof.administration_period(self)
        indication = (record.order or {}).get("regimen_id") or record.patient.get("indication")
        regimen = self.catalogue.regimens.get(indication) if self.catalogue and indication else None
        return MedicationAdministration(
            id=self.id("administration"),
            contained=[medication],
            status=_status(outcome, end or self.record.visit.get("ended_at")),
            statusReason=[
                CodeableConcept(text=outcome.reason or "Stopped before the planned volume was given")
            ]
            if outcome.partial
            else None,
            medicationReference=Reference(reference="#medication", display=name),
            subject=_ref(self.patient),
            context=_ref(self.encounter),
            effectivePeriod=Period(start=start, end=end) if start else None,
            effectiveDateTime=None if start else self._when(),
            performer=[MedicationAdministrationPerformer(actor=self.nurse)] if self.nurse else None,
            reasonCode=[CodeableConcept(text=regimen.name if regimen else indication)]
            if indication
            else None,
            dosage=dosage,
            note=[
                Annotation(text=t)
                for t in (f"Lots: {lot_text}." if lots else None, order_mismatch(record))
                if t
            ]
            + self._changed_notes()
            or None,
        )

    def _changed_notes(self) -> list[Annotation]:
        """A signed visit exports the patient and order as signed; later edits are notes."""
        return [
            Annotation(
                text=f"Changed since signing: {where} {label} is now {now} (the signed value is exported)."
            )
            for where, label, now in self.record.changed_since_signing
        ]

    @staticmethod
    def _lot_extension(lot: dict) -> Extension:
        return Extension(
            url=LOT_EXTENSION,
            extension=[
                Extension(url="lotNumber", valueString=lot["lot_number"]),
                Extension(url="expirationDate", valueDate=lot["expiry_date"]),
                Extension(url="vialSize", valueQuantity=_quantity(lot["vial_size_g"], "g", "g")),
                Extension(url="vialCount", valueInteger=lot["vial_count"]),
            ],
        )

    # ------------------------------------------------------------------ observations

    def _observation(self, id_parts: tuple, codes, when: str, note: str = "", **values) -> Observation:
        return Observation(
            id=self.id(*id_parts),
            status="final" if self.final else "preliminary",
            category=[_concept(_CATEGORY[0], [_CATEGORY[1:]])],
            code=_concept(LOINC, codes, text=codes[0][1]),
            subject=_ref(self.patient),
            encounter=_ref(self.encounter),
            effectiveDateTime=when,
            performer=[self.nurse] if self.nurse else None,
            note=[Annotation(text=note)] if note else None,
            **values,
        )

    @staticmethod
    def _interpretation(flags) -> list[CodeableConcept] | None:
        codes = list(dict.fromkeys(_INTERPRETATIONS[f.kind] for f in flags))
        return [_concept(_INTERPRETATION, codes[:1])] if codes else None

    def observations(self) -> list[Observation]:
        """One Observation per vital sign per reading (blood pressure as one panel); flags
        from :func:`nurse_app.core.vitals.flag_series`, as on the flowsheet and the PDF."""
        result = []
        series = flag_series([reading_measures(r) for r in self.record.vitals])

        for reading, reading_flags in zip(self.record.vitals, series, strict=True):

            def flags(column: str, value: float, reading_flags=reading_flags):
                return [f for f in reading_flags if f.measure == VITAL_MEASURES[column]]

            when, note, rid = reading["recorded_at"], reading.get("note") or "", reading["id"]
            for column, (codes, ucum, unit) in VITAL_CODES.items():
                value = reading.get(column)
                if value is None:
                    continue
                result.append(
                    self._observation(
                        ("vitals", rid, column),
                        codes,
                        when,
                        note,
                        valueQuantity=_quantity(value, ucum, unit, 1),
                        interpretation=self._interpretation(flags(column, value)),
                    )
                )
            parts = []
            for column, code in BP_PARTS.items():
                value = reading.get(column)
                if value is not None:
                    parts.append(
                        ObservationComponent(
                            code=_concept(LOINC, [code], text=code[1]),
                            valueQuantity=_quantity(value, "mm[Hg]", "mmHg", 0),
                            interpretation=self._interpretation(flags(column, value)),
                        )
                    )
            if parts:
                result.append(
                    self._observation(
                        ("vitals", rid, "blood-pressure"), (BP_PANEL,), when, note, component=parts
                    )
                )
        weight = self.record.visit.get("weight_kg")
        if weight is not None:
            result.insert(
                0,
                self._observation(
                    ("weight",), (BODY_WEIGHT,), self._when(), valueQuantity=_quantity(weight, "kg", "kg", 1)
                ),
            )
        return result

    # ------------------------------------------------------------------ allergies, reactions

    def allergies(self) -> list[AllergyIntolerance]:
        """One per allergy listed; "no known allergies" as the single SNOMED CT 716186003
        entry (so the receiver can tell it from "never asked", which sends nothing)."""
        clinical = _concept(_ALLERGY_CLINICAL, [("active", "Active")])
        state = self.record.allergies
        if state.state == NONE_KNOWN:
            return [
                AllergyIntolerance(
                    id=_uuid(self.patient.id, "allergy", "no-known-allergy"),
                    clinicalStatus=clinical,
                    verificationStatus=_concept(_ALLERGY_VERIFICATION, [("confirmed", "Confirmed")]),
                    code=_concept(SNOMED, [NO_KNOWN_ALLERGY], text=NONE_KNOWN_TEXT),
                    patient=_ref(self.patient),
                )
            ]
        return [
            AllergyIntolerance(
                id=_uuid(self.patient.id, "allergy", text.casefold()),
                clinicalStatus=clinical,
                code=CodeableConcept(text=text),
                patient=_ref(self.patient),
            )
            for text in state.entries
        ]

    def adverse_events(self, administration: MedicationAdministration) -> list[AdverseEvent]:
        events = []
        for r in self.record.reactions:
            rate = r.get("rate_at_onset_ml_h")
            lines = [
                f"Reaction: {kind_label(r['kind'])} ({severity_label(r['kind'], r['severity']).lower()}).",
                f"Rate at onset: {fmt_qty(rate, 'mL/h')}." if rate is not None else "",
                f"Action taken: {r['action_taken']}" if r.get("action_taken") else "",
                f"Outcome: {r['outcome']}" if r.get("outcome") else "",
                f"Note: {r['note']}" if r.get("note") else "",
            ]
            events.append(
                AdverseEvent(
                    id=self.id("reaction", r["id"]),
                    text=_narrative(lines),
                    actuality="actual",
                    event=CodeableConcept(text=kind_label(r["kind"])),
                    subject=_ref(self.patient),
                    encounter=_ref(self.encounter),
                    date=r["occurred_at"],
                    severity=_concept(_AE_SEVERITY, [(r["severity"], r["severity"].capitalize())]),
                    outcome=CodeableConcept(text=r["outcome"]) if r.get("outcome") else None,
                    recorder=Reference(display=r["recorded_by"]) if r.get("recorded_by") else None,
                    suspectEntity=[AdverseEventSuspectEntity(instance=_ref(administration))],
                )
            )
        return events

    # ------------------------------------------------------------------ follow-up calls

    def communications(self) -> list[Communication]:
        """Signed follow-up calls since the previous visit (rash check call, reviews) as
        Communications by telephone with the patient."""
        from nurse_app.core.schedule import call_rule, call_summary_lines

        result = []
        for call in self.record.followup_calls:
            rule = call_rule(call)
            lines = call_summary_lines(call)
            result.append(
                Communication(
                    id=self.id("followup-call", call["id"]),
                    text=_narrative(lines),
                    status="completed",
                    category=[CodeableConcept(text=rule.title if rule else call["rule_id"])],
                    medium=[_concept(_PARTICIPATION_MODE, [("PHONE", "telephone")])],
                    subject=_ref(self.patient),
                    sent=call.get("called_at") or call.get("signed_at"),
                    sender=Reference(display=call.get("signed_by") or call.get("nurse_name")),
                    recipient=[_ref(self.patient)],
                    payload=[CommunicationPayload(contentString="\n".join(line.strip() for line in lines))],
                )
            )
        return result


_PARTICIPATION_MODE = "http://terminology.hl7.org/CodeSystem/v3-ParticipationMode"


def visit_bundle(record: VisitRecord, timestamp: str | None = None) -> Bundle:
    """The visit as a FHIR R4 ``collection`` Bundle (every part validated on creation)."""
    b = _Builder(record)
    administration = b.administration()
    caregiver = fhir_proof.related_person(b)
    resources = [
        b.patient,
        *([b.place] if b.place is not None else []),
        b.encounter,
        administration,
        *b.observations(),
        *fhir_proof.procedures(b),
        *fhir_proof.site_observations(b),
        *b.allergies(),
        *b.adverse_events(administration),
        *b.communications(),
        *([caregiver] if caregiver is not None else []),
    ]
    signatures = fhir_proof.provenance(b, [b.encounter, administration], caregiver)
    if signatures is not None:
        resources.append(signatures)
    bundle_id = b.id("bundle")
    return Bundle(
        id=bundle_id,
        identifier=Identifier(system="urn:ietf:rfc:3986", value=f"urn:uuid:{bundle_id}"),
        type="collection",
        timestamp=timestamp or now_text(),
        entry=[BundleEntry(fullUrl=f"urn:uuid:{r.id}", resource=r) for r in resources],
    )


def bundle_json(bundle: Bundle) -> str:
    """The Bundle as FHIR JSON, parsed back once to prove it is a valid Bundle."""
    text = bundle.model_dump_json(indent=2)
    Bundle.model_validate_json(text)
    return text + "\n"


def resource_counts(bundle: Bundle) -> Counter:
    """How many resources of each type the Bundle holds."""
    return Counter(entry.resource.get_resource_type() for entry in bundle.entry or () if entry.resource)


def counts_text(counts: Counter) -> str:
    """``1 Patient, 1 Encounter, 37 Observation...`` in Bundle order."""
    return ", ".join(f"{n} {kind}" for kind, n in counts.items())
