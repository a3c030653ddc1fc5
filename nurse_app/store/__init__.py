"""The local patient and visit record: one SQLite file, and the only place with SQL.

Why it is built this way: the record is clinical and legal, typed at a kitchen table
with no network.  So every change is committed the moment it is made (WAL journal,
``synchronous=FULL``: it survives a crash or a power cut), a signed visit can no longer
change (the API refuses, and SQLite triggers refuse raw SQL too; corrections are
append-only addenda), every insert/update/delete of clinical data lands in an audit
log stamped with the nurse's name, and a file the app does not understand (damaged,
empty, another program's, or from a newer version) is never overwritten.

Opening
-------
``Store.open(path=None)``
    Open the record (``None``: ``NURSE_APP_DB`` or the platformdirs user data folder,
    see :func:`resolve_db_path`).  Creates a new file, or backs up (SQLite backup API)
    and migrates an older schema (``PRAGMA user_version``).  Raises
    :class:`CorruptDatabaseError` (with ``.backups`` to offer a restore),
    :class:`DatabaseNewerError` or :class:`DatabaseLocationError`.  ``store.close()``;
    also a context manager.  ``store.path``, ``store.schema_version``,
    ``store.migration_backup`` (backup taken by this open, or None).
``store.transaction()``
    Several calls committed together (each call is otherwise its own commit).

Nurse profile and settings
--------------------------
``nurse_profile()`` -> ``{"name", "credentials", "display", "updated_at"}`` or None;
``set_nurse_profile(name, credentials="")``.  Clinical writes need a profile
(:class:`NoNurseProfileError`): its ``display`` stamps entries, signatures, addenda
and audit rows.  ``get_setting(key, default=None)``, ``set_setting(key, json_value)``.

Records (ids are ints; rows are dicts of stored values)
-------------------------------------------------------
Patients
    ``create_patient(mrn, name, date_of_birth, sex, height_cm=None, allergies="",
    indication=None, prescriber="", notes="", archived=False)`` -> id;
    ``update_patient(id, **changes)``, ``get_patient(id)``,
    ``find_patients(query="", include_archived=False, limit=200)`` (name or MRN, ignores
    case and accents), ``find_patients_with_last_visit(...)`` (the same, each with
    ``last_visit_at``, in one query), ``delete_patient(id)`` (only without visits: archive
    instead).
Weights
    ``add_weight(patient_id, weight_kg, measured_on=today, note="")``,
    ``patient_weights(patient_id)`` (newest first), ``delete_weight(id)``.
Orders
    ``create_order(patient_id, product_id, regimen_id=None, dose_g_per_kg=None,
    course_days=None, interval_days=None, start_date, prescriber, active=True, notes="",
    weight_basis="auto", max_rate_mg_kg_min=None, risks=())`` (risks: renal, thrombosis,
    first-infusion; carried into every visit), ``update_order``, ``get_order``,
    ``patient_orders(patient_id, active_only=False)``, ``delete_order`` (only if no visit uses it).
Visits
    ``create_visit(patient_id, order_id=None, scheduled_at=None, started_at=None,
    ended_at=None, course_day=1, course_days=1, weight_kg=None, calculation=None,
    notes="", start_acknowledgements=None, template_id="ivig-home-visit", template_version=None)`` -> id.
    ``calculation`` is the dose engine's ``DoseResult.to_dict()``, stored as JSON and
    returned as the same dict, so later resource changes never rewrite history.
    ``update_visit``, ``get_visit``, ``patient_visits(patient_id)`` (newest first, no
    calculation), ``delete_visit`` (drafts only), ``visit_children(visit_id)`` ->
    ``{"checklist", "vitals", "reactions", "lots", "infusion_events", "addenda"}``;
    ``earlier_visits(patient_id, before_visit_id=None)`` (with the order's product: first
    infusion of a product, course interval).
Checklist (template from ``resources/checklists``, version fixed per visit)
    ``visit_checklist(visit_id)`` (every template item that applies to the visit's product
    and order risks, with its answer or None),
    ``set_checklist_item(visit_id, item_id, status, note="", at=None)`` with status
    ``done | not_done | not_applicable`` (not_done needs a note),
    ``set_checklist_items(visit_id, {item_id: status or (status, note)})``,
    ``clear_checklist_item``, ``unanswered_required_items``, ``visit_template``.
Vitals
    ``add_vitals(visit_id, recorded_at=now, temperature_c, heart_rate, systolic_mmhg,
    diastolic_mmhg, respiratory_rate, spo2_percent, infusion_rate_ml_h, note)``,
    ``update_vitals``, ``delete_vitals``, ``visit_vitals`` (time order).  Implausible
    values are refused (ranges in ``resources/vitals.toml``); abnormal ones are stored
    and flagged: ``visit_vital_flags(visit_id)`` -> ``{reading_id: [VitalFlag]}``
    (limits, and change from each measure's baseline, the first reading that has it; see
    :func:`nurse_app.core.vitals.flag_series`).
Reactions
    ``add_reaction(visit_id, kind, severity, occurred_at=now, rate_at_onset_ml_h=None,
    action_taken="", outcome="", note="")``, ``update_reaction``, ``delete_reaction``,
    ``visit_reactions``.  The kind is an id (or title) from ``resources/reactions.toml`` and
    decides the severities that fit it (anaphylaxis is always severe; see
    :mod:`nurse_app.core.reactions`): a forbidden pair or an unknown kind is refused.
Infusion timeline
    ``add_infusion_event(visit_id, kind, rate_ml_h=None, occurred_at=now, note="")`` with
    kind ``start | rate_change | pause | resume | stop | end`` (the first three need the
    rate), ``update_infusion_event``, ``delete_infusion_event``, ``visit_infusion_events``.
Product lots
    ``add_lot(visit_id, product_id, lot_number, expiry_date, vial_size_g, vial_count)``
    (expired lots refused), ``update_lot``, ``delete_lot``, ``visit_lots``,
    ``visit_lot_check`` (:func:`nurse_app.core.lots.check_lots`: product, expiry, grams against the plan),
    ``find_lot(lot_number)`` (recall look-up).
Signing and addenda
    ``signing_problems(visit_id)`` (start/end time, unanswered required items),
    ``sign_visit(visit_id)`` (signer, time, ``sha256:`` content hash; afterwards every
    change raises :class:`SignedVisitError`), ``verify_visit(visit_id)``,
    ``add_addendum(visit_id, text)`` (signed visits; append-only), ``visit_addenda``.
Follow-up calls (issue 16; :mod:`nurse_app.store.followups`)
    ``create_followup_call(patient_id, rule_id, order_id, course_number, due_date,
    called_at, reached, answers, advice, escalated_to, escalated_at, notes)``,
    ``update_followup_call`` (autosave of a draft), ``followup_call_problems``,
    ``sign_followup_call`` (read-only afterwards, API and triggers),
    ``followup_call_intact``, ``patient_followup_calls``, ``calls_since``,
    ``delete_followup_call`` (drafts).  ``schedule_rows()``: what the week's schedule
    needs for the whole record in four queries.
Audit
    ``audit_entries(table=None, row_id=None, limit=500)``: newest first; ``before`` /
    ``after`` are the whole row for insert/delete, the changed columns for update.

Files
-----
``list_backups(db_path)`` (newest first, :class:`BackupInfo`), ``backup_now(db_path,
dest=None)``, ``restore_backup(db_path, backup_file)`` (validates first, keeps the
current file), ``check_database(db_path, seal_list=None)`` -> :class:`CheckReport`
(read-only), ``export_seal_list(db_path, dest)`` (the seals kept off the laptop, see
:mod:`nurse_app.store.seals`).
``nurse_app.store.demo.generate(store, patients, seed)`` makes demo data.
Times are ISO-8601 UTC text; :func:`to_local` converts one for display.
"""

from nurse_app.store.api import Store
from nurse_app.store.backup import BackupInfo, list_backups
from nurse_app.store.errors import (
    ConflictError,
    CorruptDatabaseError,
    DatabaseBusyError,
    DatabaseLocationError,
    DatabaseNewerError,
    NoNurseProfileError,
    NotFoundError,
    RecordRekeyedError,
    RecordValueError,
    SignedVisitError,
    StoreError,
    VoidedVisitError,
)
from nurse_app.store.location import default_db_path, resolve_db_path
from nurse_app.store.maintenance import CheckReport, backup_now, check_database, export_seal_list
from nurse_app.store.restore import RestoreResult, restore_backup
from nurse_app.store.times import to_local

__all__ = [
    "BackupInfo",
    "CheckReport",
    "ConflictError",
    "CorruptDatabaseError",
    "DatabaseBusyError",
    "DatabaseLocationError",
    "DatabaseNewerError",
    "NoNurseProfileError",
    "NotFoundError",
    "RecordRekeyedError",
    "RecordValueError",
    "RestoreResult",
    "SignedVisitError",
    "Store",
    "StoreError",
    "VoidedVisitError",
    "backup_now",
    "check_database",
    "default_db_path",
    "export_seal_list",
    "list_backups",
    "resolve_db_path",
    "restore_backup",
    "to_local",
]
