"""One visit as a FHIR R4 ``transaction`` Bundle, for the agency's record system (EHR).

Built with the ``fhir.resources`` model classes, which validate every element as it
is made (types, required fields, cardinality), and the finished JSON is parsed
back into a ``Bundle`` before it is written, so a file that leaves the app is one
the library accepts.  ``fhir.resources`` 7 and later model FHIR R5 by default; we
use its ``fhir.resources.R4B`` subpackage.  R4B is wire-compatible with R4 for
every resource used here, so the JSON is FHIR R4 (the tests check it against HL7's R4 JSON
Schema and send it to a FHIR server).

The Bundle is a ``transaction``: every entry is a ``PUT Type/id`` with an id that is the same
every time the visit is exported (UUID v5 from the visit's id and creation time, the MRN, the
product and lot...), and every reference is ``Type/id``; so sending it twice changes nothing
on the server (an update with the same content).  It holds:

* **Patient** -- US Core: the MRN (identifier type MR; system from the agency policy's
  ``[handoff] mrn_system``, else the agency detail ``mrn_system`` (:mod:`nurse_app.core.agency`),
  else ``urn:nurse-app:mrn``), the name as entered (``family``, ``given``, and ``text``), sex
  (``gender``) and date of birth.
* **Practitioner** -- the nurse: name, credentials (``qualification``), NPI when entered.
* **Encounter** -- a home-health visit (v3 ActCode HH) whose ``period`` is the visit.
* **Medication** -- one per lot: the product coded with the package's NDC (and its GS1 GTIN)
  where the catalogue has a confirmed one, the lot and expiry in ``batch``.
* **MedicationAdministration** -- the infusion: its own start and stop (the infusion events,
  not the visit), the dose actually given (UCUM ``g``), route intravenous (SNOMED CT 47625008),
  the rate as a ``Quantity`` in mL/h; and one more MedicationAdministration per rate stretch
  (see :meth:`_Builder.rate_stretches`).
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
* **Communication** -- signed follow-up calls since the previous visit.
* **Provenance** -- on a signed visit, the signature: it targets every resource of the visit,
  names the nurse (Practitioner) as author, and carries the visit's seal (its content hash) in
  ``signature``; one more per addendum.
"""

from __future__ import annotations

import base64
import html
import json
import uuid
from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

from fhir.resources.R4B.adverseevent import AdverseEvent, AdverseEventSuspectEntity
from fhir.resources.R4B.allergyintolerance import AllergyIntolerance
from fhir.resources.R4B.annotation import Annotation
from fhir.resources.R4B.bundle import Bundle, BundleEntry, BundleEntryRequest
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
from fhir.resources.R4B.patient import Patient, PatientCommunication
from fhir.resources.R4B.period import Period
from fhir.resources.R4B.practitioner import Practitioner, PractitionerQualification
from fhir.resources.R4B.provenance import Provenance, ProvenanceAgent
from fhir.resources.R4B.quantity import Quantity
from fhir.resources.R4B.reference import Reference
from fhir.resources.R4B.resource import Resource
from fhir.resources.R4B.signature import Signature

from nurse_app.core import infusion_record
from nurse_app.core.agency import MRN_SYSTEM
from nurse_app.core.allergies import NONE_KNOWN, NONE_KNOWN_TEXT
from nurse_app.core.catalogue import Catalogue, Product, load_catalogue
from nurse_app.core.errors import NurseAppError
from nurse_app.core.formatting import fmt_qty
from nurse_app.core.identifiers import NPI_SYSTEM
from nurse_app.core.lots import recorded_as
from nurse_app.core.names import split_name
from nurse_app.core.policy import load_policy
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
DEFAULT_VISIT_SYSTEM = "urn:nurse-app:visit"
PRODUCT_SYSTEM = "urn:nurse-app:product"
NDC_SYSTEM = "http://hl7.org/fhir/sid/ndc"
GTIN_SYSTEM = "https://www.gs1.org/gtin"
# A carton's GS1 serial number (AI 21) as the Medication's identifier, and how each lot row was made.
SERIAL_SYSTEM = "https://www.gs1.org/serial"
LOT_RECORDED_EXTENSION = "urn:nurse-app:fhir:StructureDefinition:lot-recorded"
# HL7's core extension for "an interpreter is required" on a Patient.
INTERPRETER_REQUIRED = "http://hl7.org/fhir/StructureDefinition/patient-interpreterRequired"

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
_V2_0203 = "http://terminology.hl7.org/CodeSystem/v2-0203"
_PROVENANCE_AGENT = "http://terminology.hl7.org/CodeSystem/provenance-participant-type"
_DATA_OPERATION = "http://terminology.hl7.org/CodeSystem/v3-DataOperation"
# ASTM E1762 signature types (the value set FHIR's Signature.type uses).
_SIGNATURE_TYPE = "urn:iso-astm:E1762-95:2013"
AUTHOR_SIGNATURE = ("1.2.840.10065.1.12.1.1", "Author's Signature")
SEAL_PREFIX = "sha256:"

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


def _ref(resource, display: str | None = None) -> Reference:
    return Reference(reference=f"{resource.get_resource_type()}/{resource.id}", display=display)


def _concept(system: str, codes: Iterable[tuple[str, str]], text: str | None = None) -> CodeableConcept:
    return CodeableConcept(coding=[Coding(system=system, code=c, display=d) for c, d in codes], text=text)


def _quantity(value: float, ucum: str, unit: str, decimals: int = 2) -> Quantity:
    return Quantity(value=round(float(value), decimals), unit=unit, system=UCUM, code=ucum)


def _narrative(lines: Iterable[str]) -> Narrative:
    body = "".join(f"<p>{html.escape(line)}</p>" for line in lines if line)
    return Narrative(status="generated", div=f'<div xmlns="{_XHTML}">{body}</div>')


def identifier_systems(settings: Mapping[str, Any]) -> tuple[str, str]:
    """The MRN and visit identifier systems: the agency policy's ``[handoff]`` first, then the
    agency detail typed in the profile (MRN only), then the app's own URNs."""
    handoff = load_policy().handoff
    mrn = handoff.get("mrn_system") or settings.get(MRN_SYSTEM) or DEFAULT_MRN_SYSTEM
    return str(mrn), str(handoff.get("visit_system") or DEFAULT_VISIT_SYSTEM)


def seal_text(content_hash: str) -> str:
    """The seal as the Provenance carries it (``sha256:`` and the visit's content hash)."""
    return SEAL_PREFIX + content_hash


def patient_name(patient: Mapping[str, Any]) -> tuple[str, str]:
    """``(given, family)`` as entered; a name signed before the parts existed is split once."""
    if patient.get("family_name"):
        return str(patient.get("given_name") or ""), str(patient["family_name"])
    return split_name(str(patient.get("name") or ""))


def patient_resource(p: Mapping[str, Any], mrn_system: str) -> Patient:
    """The patient (US Core): MRN, the name as entered in parts, sex, date of birth, the service
    address, phones and emergency contact."""
    given, family = patient_name(p)
    return Patient(
        id=_uuid("patient", mrn_system, p["mrn"]),
        identifier=[
            Identifier(
                use="usual",
                system=mrn_system,
                value=p["mrn"],
                type=_concept(_V2_0203, [("MR", "Medical record number")]),
            )
        ],
        name=[HumanName(use="official", text=p["name"], family=family or None, given=given.split() or None)],
        gender=p["sex"] if p["sex"] in ("female", "male", "other", "unknown") else "unknown",
        birthDate=p["date_of_birth"],
        **fhir_proof.patient_details(dict(p)),
        communication=_communication(p),
        extension=[Extension(url=INTERPRETER_REQUIRED, valueBoolean=bool(p["interpreter_needed"]))]
        if p.get("interpreter_needed") is not None
        else None,
    )


class _Builder:
    """Builds the resources of one visit; keeps the shared references."""

    def __init__(self, record: VisitRecord, profile: Mapping[str, Any] | None = None):
        self.record = record
        visit = record.visit
        self.key = f"visit/{visit['id']}/{visit['created_at']}"
        self.final = record.signed
        self.mrn_system, self.visit_system = identifier_systems(record.settings)
        self.catalogue: Catalogue | None
        try:
            self.catalogue = load_catalogue()
        except NurseAppError:  # names then fall back to the stored ids
            self.catalogue = None
        self.patient = self._patient()
        self.place = fhir_proof.location(self)
        self.practitioner = self._practitioner(profile)
        self.nurse = _ref(self.practitioner, record.nurse) if self.practitioner else None
        self.encounter = self._encounter()

    def id(self, *parts: Any) -> str:
        return _uuid(self.key, *parts)

    # ------------------------------------------------------------------ patient, nurse, encounter

    def _patient(self) -> Patient:
        return patient_resource(self.record.patient, self.mrn_system)

    def _practitioner(self, profile: Mapping[str, Any] | None) -> Practitioner | None:
        """The nurse who signed (or documents) the visit; NPI and credentials from the nurse
        profile when the visit's nurse is the profile's nurse."""
        shown = self.record.nurse
        if not shown:
            return None
        own = profile is not None and shown == profile.get("display")
        name = str(profile["name"]) if own and profile else shown
        npi = str(profile.get("npi") or "") if own and profile else ""
        credentials = str(profile.get("credentials") or "") if own and profile else ""
        return Practitioner(
            id=_uuid("practitioner", npi or name.casefold()),
            identifier=[Identifier(system=NPI_SYSTEM, value=npi)] if npi else None,
            name=[HumanName(text=name)],
            qualification=[PractitionerQualification(code=CodeableConcept(text=credentials))]
            if credentials
            else None,
        )

    def _encounter(self) -> Encounter:
        visit = self.record.visit
        period = Period(start=visit.get("started_at") or visit.get("scheduled_at"), end=visit.get("ended_at"))
        agency = self.record.settings.get("agency")
        return Encounter(
            id=self.id("encounter"),
            identifier=[Identifier(system=self.visit_system, value=str(visit["id"]))],
            status="finished"
            if visit.get("ended_at")
            else ("in-progress" if visit.get("started_at") else "planned"),
            class_fhir=Coding(system=_ACT_CODE, code="HH", display="home health"),
            type=[CodeableConcept(text="Home IVIG infusion visit")],
            subject=_ref(self.patient),
            participant=[EncounterParticipant(individual=self.nurse)] if self.nurse else None,
            period=period if period.start else None,
            location=fhir_proof.encounter_location(self.place),
            serviceProvider=Reference(display=agency) if agency else None,
        )

    def _when(self) -> str:
        return visit_moment(self.record.visit) or self.record.visit["created_at"]

    # ------------------------------------------------------------------ medication

    def _product(self, product_id: str | None) -> Product | None:
        return self.catalogue.products.get(product_id) if self.catalogue and product_id else None

    def _product_name(self, product_id: str) -> str:
        calc = self.record.calculation
        product = self._product(product_id)
        if product is not None:
            return product.display_name
        brand = calc.get("product_brand") if calc.get("product") == product_id else None
        return str(brand or product_id)

    def _product_coding(
        self, product_id: str, vial_size_g: float | None, name: str
    ) -> tuple[list[Coding], str]:
        """The package's NDC and GTIN where the catalogue has a confirmed NDC for the vial
        size; an NDC the catalogue marks unconfirmed is named in the text, not coded."""
        codings = [Coding(system=PRODUCT_SYSTEM, code=product_id, display=name)]
        product = self._product(product_id)
        vial = next(
            (
                v
                for v in (product.vials if product else ())
                if vial_size_g is not None and v.grams == vial_size_g
            ),
            None,
        )
        note = ""
        if vial is not None and vial.ndc:
            if vial.ndc_verified:
                codings.insert(
                    0, Coding(system=NDC_SYSTEM, code=vial.ndc, display=f"{name} {fmt_qty(vial.grams, 'g')}")
                )
                if vial.gtin:
                    codings.insert(1, Coding(system=GTIN_SYSTEM, code=vial.gtin))
            else:
                note = f"; NDC {vial.ndc} UNVERIFIED (confirm with the carton)"
        return codings, note

    def medications(self) -> list[Medication]:
        """One Medication per lot: the product (NDC and GTIN of that vial size when known),
        the lot number and expiry in ``batch``, the serial of each scanned carton of that lot as
        an identifier, and how the lot was recorded (scanned from the carton's code, or typed)."""
        by_id: dict[str, tuple[dict[str, Any], list[str], list[str]]] = {}
        for lot in self.record.lots:
            key = _uuid(
                "medication", lot["product_id"], lot["vial_size_g"], lot["lot_number"], lot["expiry_date"]
            )
            _first, serials, how = by_id.setdefault(key, (lot, [], []))
            if lot.get("serial"):
                serials.append(str(lot["serial"]))
            how.append(recorded_as(lot))
        result = []
        for key, (lot, serials, how) in by_id.items():
            name = self._product_name(lot["product_id"])
            codings, note = self._product_coding(lot["product_id"], lot["vial_size_g"], name)
            result.append(
                Medication(
                    id=key,
                    identifier=[Identifier(system=SERIAL_SYSTEM, value=serial) for serial in serials] or None,
                    code=CodeableConcept(
                        coding=codings,
                        text=f"{name} {fmt_qty(lot['vial_size_g'], 'g')} vial (immune globulin intravenous, human){note}",
                    ),
                    batch=MedicationBatch(lotNumber=lot["lot_number"], expirationDate=lot["expiry_date"]),
                    extension=[Extension(url=LOT_RECORDED_EXTENSION, valueString="; ".join(how))],
                )
            )
        return result

    def administration(self, medications: list[Medication]) -> MedicationAdministration:
        record, visit, calc = self.record, self.record.visit, self.record.calculation
        product_id = (
            (record.order or {}).get("product_id")
            or calc.get("product")
            or (record.lots[0]["product_id"] if record.lots else None)
        )
        name = self._product_name(product_id) if product_id else "Immune globulin"
        lots = record.lots
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
        # The dose is what was given (the volume infused at stop/finish), not what was planned.
        outcome = record.outcome
        given_g = infusion_record.grams_given(outcome.volume_ml, calc)
        if given_g is not None:
            dose_text.insert(
                0,
                f"given {fmt_qty(given_g, 'g', 2)} in {fmt_qty(outcome.volume_ml or 0, 'mL', 0)} "
                f"({outcome.label}); planned",
            )
        dose_g = given_g if given_g is not None else calc.get("daily_dose_g")
        segments = infusion_record.rate_segments(record.infusion_events)
        top = max((s.rate_ml_h for s in segments), default=None)
        if top is not None:
            dose_text.append(
                f"highest rate {fmt_qty(top, 'mL/h')} (each rate in its own MedicationAdministration)"
            )
        dosage = MedicationAdministrationDosage(
            text=", ".join(dose_text) or None,
            route=_concept(SNOMED, [IV_ROUTE]),
            dose=_quantity(round(dose_g, 2), "g", "g") if dose_g is not None else None,
            # The highest rate reached: the figure a reviewer checks against the label's maximum.
            rateQuantity=_quantity(top, "mL/h", "mL/h", 1) if top is not None else None,
        )
        start, end = infusion_record.infusion_period(record.infusion_events)
        indication = (record.order or {}).get("regimen_id") or record.patient.get("indication")
        regimen = self.catalogue.regimens.get(indication) if self.catalogue and indication else None
        # One lot: the administration names its Medication.  Several lots (an IVIG dose is often
        # drawn from more than one): R4 allows one medication per administration, so it names the
        # product and lists each lot's Medication as supporting information.
        codings, _ = self._product_coding(product_id, None, name) if product_id else ([], "")
        self.medication = (
            {"medicationReference": _ref(medications[0], name)}
            if len(medications) == 1
            else {
                "medicationCodeableConcept": CodeableConcept(
                    coding=codings or None, text=f"{name} (immune globulin intravenous, human)"
                )
            }
        )
        return MedicationAdministration(
            id=self.id("administration"),
            status=_status(outcome, end or visit.get("ended_at")),
            statusReason=[
                CodeableConcept(text=outcome.reason or "Stopped before the planned volume was given")
            ]
            if outcome.partial
            else None,
            **self.medication,
            supportingInformation=[_ref(m) for m in medications] if len(medications) > 1 else None,
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
            + self._addendum_notes()
            or None,
        )

    def rate_stretches(self, administration: MedicationAdministration) -> list[MedicationAdministration]:
        """One MedicationAdministration per stretch of the infusion at one rate, ``partOf`` the
        whole infusion's.

        Why this form: FHIR R4's own guidance for ``MedicationAdministration.dosage.rate[x]`` is
        that when the rate changes over time, each change is captured as a distinct
        MedicationAdministration with its rate and an ``effectivePeriod``.  The alternatives
        fit worse: ``Dosage.doseAndRate`` belongs to orders (MedicationRequest), not to what was
        given; an extension would be one only this app reads; Observations would not be
        medication records.  A receiver that ignores the stretches still has the whole infusion
        (period, dose given, highest rate) in the parent.
        """
        stretches = []
        for n, segment in enumerate(infusion_record.rate_segments(self.record.infusion_events), 1):
            stretches.append(
                MedicationAdministration(
                    id=self.id("administration", "rate", n),
                    partOf=[_ref(administration)],
                    status="completed" if segment.end else "in-progress",
                    **self.medication,
                    subject=_ref(self.patient),
                    context=_ref(self.encounter),
                    effectivePeriod=Period(start=segment.start, end=segment.end),
                    performer=[MedicationAdministrationPerformer(actor=self.nurse)] if self.nurse else None,
                    dosage=MedicationAdministrationDosage(
                        text=f"rate {fmt_qty(segment.rate_ml_h, 'mL/h')}",
                        route=_concept(SNOMED, [IV_ROUTE]),
                        rateQuantity=_quantity(segment.rate_ml_h, "mL/h", "mL/h", 1),
                    ),
                )
            )
        return stretches

    def _addendum_notes(self) -> list[Annotation]:
        return [
            Annotation(
                authorString=a.get("author") or None,
                time=a["written_at"],
                text=f"Addendum: {a['text']}",
            )
            for a in self.record.addenda
        ]

    # ------------------------------------------------------------------ signature

    def provenances(self, signed: list[Resource], caregiver: Any = None) -> list[Provenance]:
        """The signature of a signed visit (the nurse's with the seal, and the patient's or
        caregiver's beside it when they signed), and one per addendum."""
        visit = self.record.visit
        if not self.final or not visit.get("content_hash"):
            return []
        targets = [_ref(r) for r in signed]
        seal = seal_text(visit["content_hash"])
        agent = ProvenanceAgent(
            type=_concept(_PROVENANCE_AGENT, [("author", "Author")]),
            who=self.nurse or Reference(display=visit.get("signed_by") or "unknown"),
        )
        co_signer = fhir_proof.patient_signer(self, caregiver)
        result = [
            Provenance(
                id=self.id("provenance", "signature"),
                target=targets,
                recorded=visit["signed_at"],
                activity=_concept(_DATA_OPERATION, [("CREATE", "create")], text="Visit signed"),
                agent=[agent, *([co_signer[0]] if co_signer else [])],
                signature=[
                    Signature(
                        type=[
                            Coding(
                                system=_SIGNATURE_TYPE, code=AUTHOR_SIGNATURE[0], display=AUTHOR_SIGNATURE[1]
                            )
                        ],
                        when=visit["signed_at"],
                        who=agent.who,
                        sigFormat="text/plain",
                        data=base64.b64encode(seal.encode()).decode(),
                    ),
                    *([co_signer[1]] if co_signer else []),
                ],
                reason=[CodeableConcept(text=f"Seal {seal}")],
            )
        ]
        for addendum in self.record.addenda:
            result.append(
                Provenance(
                    id=self.id("provenance", "addendum", addendum["id"]),
                    target=targets[:2],  # the Encounter and the whole administration (its notes)
                    recorded=addendum["written_at"],
                    activity=_concept(_DATA_OPERATION, [("UPDATE", "revise")], text="Addendum"),
                    agent=[
                        ProvenanceAgent(
                            type=_concept(_PROVENANCE_AGENT, [("author", "Author")]),
                            who=Reference(display=addendum.get("author") or "unknown"),
                        )
                    ],
                )
            )
        return result

    def _changed_notes(self) -> list[Annotation]:
        """A signed visit exports the patient and order as signed; later edits are notes."""
        return [
            Annotation(
                text=f"Changed since signing: {where} {label} is now {now} (the signed value is exported)."
            )
            for where, label, now in self.record.changed_since_signing
        ]

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
        Communications by telephone with the patient (the same ids as when sent alone)."""
        return [call_communication(call, self.patient) for call in self.record.followup_calls]


def call_communication(call: Mapping[str, Any], patient: Patient) -> Communication:
    """A signed follow-up call as a Communication by telephone with the patient; its id depends
    only on the call, so the call sent alone and again with the next visit is one resource."""
    from nurse_app.core.schedule import call_rule, call_summary_lines

    rule = call_rule(call)
    lines = call_summary_lines(call)
    return Communication(
        id=_uuid("followup-call", call["id"], call.get("created_at")),
        text=_narrative(lines),
        status="completed",
        category=[CodeableConcept(text=rule.title if rule else call["rule_id"])],
        medium=[_concept(_PARTICIPATION_MODE, [("PHONE", "telephone")])],
        subject=_ref(patient),
        sent=call.get("called_at") or call.get("signed_at"),
        sender=Reference(display=call.get("signed_by") or call.get("nurse_name")),
        recipient=[_ref(patient)],
        payload=[CommunicationPayload(contentString="\n".join(line.strip() for line in lines))],
    )


_PARTICIPATION_MODE = "http://terminology.hl7.org/CodeSystem/v3-ParticipationMode"


def visit_bundle(
    record: VisitRecord, timestamp: str | None = None, profile: Mapping[str, Any] | None = None
) -> Bundle:
    """The visit as a FHIR R4 ``transaction`` Bundle of PUTs (every part validated on creation).

    ``profile``: the nurse profile (:meth:`Store.nurse_profile`) for the Practitioner's NPI and
    credentials."""
    b = _Builder(record, profile)
    medications = b.medications()
    administration = b.administration(medications)
    caregiver = fhir_proof.related_person(b)
    visit_resources: list[Resource] = [
        b.encounter,
        administration,
        *b.rate_stretches(administration),
        *fhir_proof.procedures(b),
        *fhir_proof.site_observations(b),
        *b.observations(),
        *b.adverse_events(administration),
        *b.communications(),
    ]
    resources: list[Resource] = [
        b.patient,
        *([b.practitioner] if b.practitioner else []),
        *([b.place] if b.place is not None else []),
        *([caregiver] if caregiver is not None else []),
        *medications,
        *visit_resources,
        *b.allergies(),
        *b.provenances(visit_resources, caregiver),
    ]
    bundle_id = b.id("bundle")
    return Bundle(
        id=bundle_id,
        identifier=Identifier(system="urn:ietf:rfc:3986", value=f"urn:uuid:{bundle_id}"),
        type="transaction",
        timestamp=timestamp or now_text(),
        entry=[transaction_entry(r) for r in resources],
    )


def transaction_entry(resource: Resource) -> BundleEntry:
    """``PUT Type/id``: creates the resource with our id, or updates it to the same content."""
    kind = resource.get_resource_type()
    return BundleEntry(
        fullUrl=f"urn:uuid:{resource.id}",
        resource=resource,
        request=BundleEntryRequest(method="PUT", url=f"{kind}/{resource.id}"),
    )


def bundle_json(bundle: Bundle) -> str:
    """The Bundle as FHIR JSON, parsed back once to prove it is a valid Bundle."""
    text = json.dumps(bundle_data(bundle), indent=2, ensure_ascii=False)
    Bundle.model_validate_json(text)
    return text + "\n"


def bundle_data(bundle: Bundle) -> dict[str, Any]:
    """The Bundle as FHIR JSON data.  A FHIR ``base64Binary`` holds no line breaks; pydantic
    before 2.10 writes its base64 with a trailing newline (which a FHIR server refuses), so the
    signatures' and attachments' ``data`` is written without them whatever pydantic is installed."""
    data: dict[str, Any] = json.loads(bundle.model_dump_json())
    _strip_base64_breaks(data)
    return data


def _strip_base64_breaks(node: Any) -> None:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "data" and isinstance(value, str):
                node[key] = value.replace("\n", "")
            else:
                _strip_base64_breaks(value)
    elif isinstance(node, list):
        for value in node:
            _strip_base64_breaks(value)


def resource_counts(bundle: Bundle) -> Counter:
    """How many resources of each type the Bundle holds."""
    return Counter(entry.resource.get_resource_type() for entry in bundle.entry or () if entry.resource)


def counts_text(counts: Counter) -> str:
    """``1 Patient, 1 Encounter, 37 Observation...`` in Bundle order."""
    return ", ".join(f"{n} {kind}" for kind, n in counts.items())


def _communication(patient: Mapping[str, Any]) -> list | None:
    """``Patient.communication``: the preferred language as a BCP 47 code (urn:ietf:bcp:47), or its
    name as text for a language not in the list; ``preferred`` is true (it is the one recorded).
    Whether an interpreter is needed goes in HL7's patient-interpreterRequired extension."""
    from nurse_app.core.languages import OTHER, load_languages

    code, other = patient.get("preferred_language"), patient.get("preferred_language_other")
    if not code:
        return None
    if code == OTHER:
        language = CodeableConcept(text=other or "Other")
    else:
        known = load_languages().get(code)
        language = CodeableConcept(
            coding=[Coding(system="urn:ietf:bcp:47", code=code, display=known.name if known else code)],
            text=known.name if known else code,
        )
    return [PatientCommunication(language=language, preferred=True)]
