"""Proof of visit in the FHIR Bundle (issue 23), beside :mod:`nurse_app.reports.fhir`.

* ``Patient.address`` (the service address, use ``home``), ``Patient.telecom`` (home and
  mobile phones) and ``Patient.contact`` (the emergency contact, relationship code C);
* a **Location** for the place of the visit (its address; typed coordinates as
  ``Location.position``), referenced by ``Encounter.location``; ``Encounter.period`` is the
  arrival and departure;
* a **Procedure** for each IV insertion attempt (``bodySite`` the site and side, outcome
  successful or unsuccessful, gauge/length in the text) and for each removal, and one for each
  flush; an existing line gets no insertion or removal;
* an **Observation** (category ``exam``) for each site assessment, one component per scale
  grade, and for each existing line's checks (patency, blood return, dressing);
* a **Provenance** over the Encounter and the administration: the nurse's signature (author)
  and, as a second signer, the patient's or caregiver's (co-participant, the PNG of the
  signature as ``data``); a caregiver is a **RelatedPerson**.

Codes used are only those of the FHIR specification's own code systems (v2-0131 contact role,
v3-RoleCode, ISO-ASTM E1762 signature types, observation-category, Provenance participant
types); sites and grades are text.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fhir.resources.R4B.address import Address
from fhir.resources.R4B.annotation import Annotation
from fhir.resources.R4B.codeableconcept import CodeableConcept
from fhir.resources.R4B.coding import Coding
from fhir.resources.R4B.contactpoint import ContactPoint
from fhir.resources.R4B.encounter import EncounterLocation
from fhir.resources.R4B.humanname import HumanName
from fhir.resources.R4B.location import Location, LocationPosition
from fhir.resources.R4B.observation import Observation, ObservationComponent
from fhir.resources.R4B.patient import PatientContact
from fhir.resources.R4B.procedure import Procedure, ProcedurePerformer
from fhir.resources.R4B.provenance import ProvenanceAgent
from fhir.resources.R4B.reference import Reference
from fhir.resources.R4B.relatedperson import RelatedPerson
from fhir.resources.R4B.signature import Signature

from nurse_app.core import visit_proof
from nurse_app.reports.visit_proof_text import infusion_times, site_text

if TYPE_CHECKING:
    from nurse_app.reports.fhir import _Builder

_V2_CONTACT_ROLE = "http://terminology.hl7.org/CodeSystem/v2-0131"
_SIGNATURE_TYPE = "urn:iso-astm:E1762-95:2013"
AUTHOR_SIGNATURE = ("1.2.840.10065.1.12.1.1", "Author's Signature")
CO_PARTICIPANT_SIGNATURE = ("1.2.840.10065.1.12.1.3", "Co-participant's Signature")
_PROVENANCE_AGENT = "http://terminology.hl7.org/CodeSystem/provenance-participant-type"
_OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"


def _ref(resource: Any) -> Reference:
    """``Type/id``: the transaction's PUT entries resolve these on the server."""
    return Reference(reference=f"{resource.get_resource_type()}/{resource.id}")


def patient_details(patient: dict[str, Any]) -> dict[str, Any]:
    """Patient.address, telecom and contact (the keyword arguments for ``Patient``)."""
    out: dict[str, Any] = {}
    if visit_proof.address_text(patient):
        out["address"] = [
            Address(
                use="home",
                type="physical",
                text=visit_proof.address_text(patient),
                line=[patient["address_line"]] if patient.get("address_line") else None,
                city=patient.get("address_city") or None,
                state=patient.get("address_state") or None,
                postalCode=patient.get("address_postal_code") or None,
            )
        ]
    telecom = [
        ContactPoint(system="phone", value=patient[key], use=use)
        for key, use in (("phone_home", "home"), ("phone_mobile", "mobile"))
        if patient.get(key)
    ]
    if telecom:
        out["telecom"] = telecom
    if patient.get("emergency_contact_name"):
        out["contact"] = [
            PatientContact(
                relationship=[
                    CodeableConcept(
                        coding=[Coding(system=_V2_CONTACT_ROLE, code="C", display="Emergency Contact")],
                        text=patient.get("emergency_contact_relation") or None,
                    )
                ],
                name=HumanName(text=patient["emergency_contact_name"]),
                telecom=[ContactPoint(system="phone", value=patient["emergency_contact_phone"])]
                if patient.get("emergency_contact_phone")
                else None,
            )
        ]
    return out


def location(b: _Builder) -> Location | None:
    visit = b.record.visit
    if not visit.get("location_kind"):
        return None
    lat, lon = visit.get("location_latitude"), visit.get("location_longitude")
    at_home = visit["location_kind"] == visit_proof.SERVICE_ADDRESS
    return Location(
        id=b.id("location"),
        status="active",
        name="Patient's service address" if at_home else "Place of the visit (not the service address)",
        mode="instance",
        address=Address(text=visit.get("location_address")) if visit.get("location_address") else None,
        position=LocationPosition(latitude=lat, longitude=lon)
        if lat is not None and lon is not None
        else None,
    )


def encounter_location(place: Location | None) -> list[EncounterLocation] | None:
    return [EncounterLocation(location=_ref(place), status="completed")] if place is not None else None


def administration_period(b: _Builder) -> tuple[str | None, str | None]:
    """The infusion's own start and end (not the visit's arrival and departure)."""
    return infusion_times(b.record.infusion_events)


def _body_site(row: dict[str, Any]) -> list[CodeableConcept] | None:
    text = site_text(row)
    return [CodeableConcept(text=text)] if text else None


def _performer(b: _Builder, name: str | None) -> list[ProcedurePerformer] | None:
    return [ProcedurePerformer(actor=Reference(display=name))] if name else None


def procedures(b: _Builder) -> list[Procedure]:
    rules = visit_proof.load_rules()
    out = []
    for d in b.record.access_devices:
        device = rules.device(d["device_type"])
        if device is None or device.existing:
            continue
        size = ", ".join(
            p
            for p in (
                f"{d['gauge']} G" if d.get("gauge") is not None else "",
                f"{d['length_mm']:g} mm" if d.get("length_mm") is not None else "",
            )
            if p
        )
        note = [
            f"Attempt {d['attempt_number']}",
            size,
            f"blood return: {'yes' if d['blood_return'] else 'no'}"
            if d.get("blood_return") is not None
            else "",
            d.get("note") or "",
        ]
        out.append(
            Procedure(
                id=b.id("access", d["id"], "insertion"),
                status="completed",
                code=CodeableConcept(text=f"Insertion of {device.title.split(' (')[0].lower()}"),
                subject=_ref(b.patient),
                encounter=_ref(b.encounter),
                performedDateTime=d.get("placed_at") or None,
                performer=_performer(b, d.get("placed_by")),
                bodySite=_body_site(d),
                outcome=CodeableConcept(text="Successful" if d.get("success") else "Unsuccessful")
                if d.get("success") is not None
                else None,
                note=[Annotation(text="; ".join(p for p in note if p))],
            )
        )
        if d.get("removed_at"):
            condition = visit_proof.title_of(rules.removal_conditions, d.get("removal_condition"))
            intact = "catheter intact" if d.get("catheter_intact") else "catheter NOT intact"
            out.append(
                Procedure(
                    id=b.id("access", d["id"], "removal"),
                    status="completed",
                    code=CodeableConcept(text=f"Removal of {device.title.split(' (')[0].lower()}"),
                    subject=_ref(b.patient),
                    encounter=_ref(b.encounter),
                    performedDateTime=d["removed_at"],
                    bodySite=_body_site(d),
                    outcome=CodeableConcept(text=f"{intact}; site: {condition}" if condition else intact),
                )
            )
    devices = {d["id"]: d for d in b.record.access_devices}
    for c in b.record.access_checks:
        if c["kind"] != visit_proof.FLUSH:
            continue
        solution = visit_proof.title_of(rules.flushes, c.get("solution"))
        out.append(
            Procedure(
                id=b.id("access-check", c["id"]),
                status="completed",
                code=CodeableConcept(text="Flush of the IV line"),
                subject=_ref(b.patient),
                encounter=_ref(b.encounter),
                performedDateTime=c["checked_at"],
                bodySite=_body_site(devices.get(c["device_id"], {})),
                usedCode=[CodeableConcept(text=solution)] if solution else None,
                note=[Annotation(text=f"{solution}, {c['volume_ml']:g} mL")],
            )
        )
    return out


def _exam(
    b: _Builder,
    id_parts: tuple[Any, ...],
    text: str,
    when: str,
    site: list[CodeableConcept] | None,
    components: list[ObservationComponent],
    note: str = "",
) -> Observation:
    return Observation(
        id=b.id(*id_parts),
        status="final" if b.final else "preliminary",
        category=[
            CodeableConcept(coding=[Coding(system=_OBSERVATION_CATEGORY, code="exam", display="Exam")])
        ],
        code=CodeableConcept(text=text),
        subject=_ref(b.patient),
        encounter=_ref(b.encounter),
        effectiveDateTime=when,
        bodySite=site[0] if site else None,
        component=components or None,
        note=[Annotation(text=note)] if note else None,
    )


def site_observations(b: _Builder) -> list[Observation]:
    rules = visit_proof.load_rules()
    devices = {d["id"]: d for d in b.record.access_devices}
    out = []
    for c in b.record.access_checks:
        if c["kind"] != visit_proof.ASSESSMENT:
            continue
        components = []
        for scale_id in ("phlebitis", "infiltration"):
            grade = c.get(f"{scale_id}_grade")
            if grade is None:
                continue
            scale = rules.scales[scale_id]
            components.append(
                ObservationComponent(
                    code=CodeableConcept(text=f"{scale.title} grade"),
                    valueInteger=grade,
                    interpretation=[CodeableConcept(text=scale.grade_text(grade))],
                )
            )
        phase = visit_proof.PHASE_TITLES.get(c.get("phase") or "", "").lower()
        out.append(
            _exam(
                b,
                ("access-check", c["id"]),
                f"IV site assessment ({phase} the infusion)",
                c["checked_at"],
                _body_site(devices.get(c["device_id"], {})),
                components,
                "; ".join(s.note for s in rules.scales.values()) + (f" {c['note']}" if c.get("note") else ""),
            )
        )
    for d in b.record.access_devices:
        device = rules.device(d["device_type"])
        if device is None or not device.existing:
            continue
        components = [
            ObservationComponent(code=CodeableConcept(text=label), valueBoolean=d[key])
            for key, label in (("patency", "Patent (flushes freely)"), ("blood_return", "Blood return"))
            if d.get(key) is not None
        ]
        if d.get("dressing"):
            components.append(
                ObservationComponent(
                    code=CodeableConcept(text="Dressing"),
                    valueString=visit_proof.title_of(rules.dressings, d["dressing"]),
                )
            )
        out.append(
            _exam(
                b,
                ("access", d["id"], "checks"),
                f"Checks of the existing {device.title.split(' (')[0].lower()}",
                d.get("placed_at") or b.record.visit.get("started_at") or b.record.visit["created_at"],
                _body_site(d),
                components,
                d.get("note") or "",
            )
        )
    return out


def related_person(b: _Builder) -> RelatedPerson | None:
    visit = b.record.visit
    if visit.get("patient_signer") != "caregiver":
        return None
    rules = visit_proof.load_rules()
    return RelatedPerson(
        id=b.id("caregiver"),
        patient=_ref(b.patient),
        name=[HumanName(text=visit.get("patient_signer_name"))],
        relationship=[
            CodeableConcept(text=visit_proof.title_of(rules.relations, visit.get("patient_signer_relation")))
        ],
    )


def patient_signer(b: _Builder, caregiver: RelatedPerson | None) -> tuple[ProvenanceAgent, Signature] | None:
    """The patient's or caregiver's signature confirming the visit, as the second signer of the
    visit's Provenance (beside the nurse's signature with the seal); None when nobody signed."""
    visit = b.record.visit
    png = visit.get("patient_signature_png")
    if not (visit.get("patient_signer") and png and visit.get("patient_signed_at")):
        return None
    who = _ref(caregiver) if caregiver is not None else _ref(b.patient)
    agent = ProvenanceAgent(
        type=CodeableConcept(
            coding=[Coding(system=_PROVENANCE_AGENT, code="informant", display="Informant")],
            text="Patient or caregiver confirming the visit",
        ),
        who=who,
    )
    signature = Signature(
        type=[
            Coding(
                system=_SIGNATURE_TYPE, code=CO_PARTICIPANT_SIGNATURE[0], display=CO_PARTICIPANT_SIGNATURE[1]
            )
        ],
        when=visit["patient_signed_at"],
        who=who,
        onBehalfOf=_ref(b.patient) if caregiver is not None else None,
        sigFormat="image/png",
        data=png,
    )
    return agent, signature


__all__ = [
    "administration_period",
    "encounter_location",
    "location",
    "patient_details",
    "patient_signer",
    "procedures",
    "related_person",
    "site_observations",
]
