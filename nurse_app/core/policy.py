"""The agency policy file: one overlay on the packaged content (issue 15 §3).

An agency sets its own values where the app says "local policy default — confirm with your
agency" in a TOML file, found (first wins) from ``--policy FILE``, the ``NURSE_APP_POLICY``
environment variable, or ``policy.toml`` in the app's data folder (beside the record).

The overlay is applied inside :func:`nurse_app.core.resources.load_toml`, before a loader
validates the file, so every cached loader -- and so every screen, PDF, FHIR export and CLI --
sees the same values, validated by the same rules as the packaged ones.  A policy may tighten
a label limit or a hard limit but never loosen one; a value that would is refused with a
message naming the policy key.  :func:`settings_in_force` lists every overridable value with
where it came from (label, app default or agency policy), for the content report and help text.

Example::

    [agency]
    name = "Example Home Infusion"

    [vitals.heart_rate]        # flowsheet flags (resources/vitals.toml)
    flag_high = 110

    [monitoring]               # vitals timing (resources/monitoring.toml [vitals])
    after_start_minutes = 15
    before_each_rate_increase = true

    [observation]              # minutes after the infusion (may lengthen, never shorten)
    minutes = 30

    [rates]
    step_interval_minutes = 30 # rate-step interval where the label gives none

    [pump]
    max_rate_ml_per_h = 500    # pump / record maximum (may only be lowered)

    [visit]
    max_hours = 6              # a day's plan longer than this warns with its duration

    [products.privigen]
    max_rate_mg_kg_min = 4     # cap under the label maximum (never above it)

    [security]
    idle_lock_minutes = 5

    [checklist]
    required = ["check-iga"]   # items made required
    [[checklist.add]]
    phase = "preparation"
    id = "agency-consent"
    text = "Consent form signed this year"
    required = true

    [contacts]                 # printed on handouts where the nurse left the field blank
    agency = "Example Home Infusion"
    phone = "555-0100"
    after_hours = "555-0199"
"""

from __future__ import annotations

import copy
import functools
import hashlib
import os
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

from nurse_app.core.errors import ResourceError

ENV_VAR = "NURSE_APP_POLICY"
FILENAME = "policy.toml"
APP_DEFAULT = "app default"
LABEL = "label"
AGENCY = "agency policy"

_explicit: Path | None = None
_LOADER_CACHES = (
    "nurse_app.core.catalogue:load_catalogue",
    "nurse_app.core.vitals:vital_measures",
    "nurse_app.core.monitoring:load_monitoring",
    "nurse_app.core.reactions:load_reactions",
    "nurse_app.core.checklists:_all_templates",
    "nurse_app.core.security:policy",
    "nurse_app.core.schedule:load_followups",
)


def set_policy_path(path: str | os.PathLike[str] | None) -> None:
    """Use this policy file (``--policy FILE``); None goes back to the environment / data folder."""
    global _explicit
    _explicit = None if path is None else Path(os.path.expanduser(str(path))).absolute()
    reload()


def explicit_policy_path() -> Path | None:
    return _explicit


def default_policy_path() -> Path:
    from platformdirs import user_data_dir

    return Path(user_data_dir("nurse-app", appauthor=False)) / FILENAME


def policy_path() -> tuple[Path | None, bool]:
    """(the policy file in use or None, whether it was named explicitly)."""
    if _explicit is not None:
        return _explicit, True
    env = os.environ.get(ENV_VAR, "").strip()
    if env:
        return Path(os.path.expanduser(env)).absolute(), True
    default = default_policy_path()
    return (default, False) if default.is_file() else (None, False)


def reload() -> None:
    """Forget the cached policy and every cached content loader (after the policy changes)."""
    import importlib

    from nurse_app.core.resources import trust_validated_content

    load_policy.cache_clear()
    _raw.cache_clear()
    trust_validated_content(None)  # content validated under another policy is not trusted
    for target in _LOADER_CACHES:
        module, name = target.split(":")
        try:
            fn = getattr(importlib.import_module(module), name)
        except (ImportError, AttributeError):
            continue
        if hasattr(fn, "cache_clear"):
            fn.cache_clear()


# ----------------------------------------------------------------------------- the file


@dataclass(frozen=True)
class Policy:
    path: Path | None
    values: dict[str, Any]  # flattened "section.key" -> value (settings only)
    checklist_required: tuple[str, ...]
    checklist_added: tuple[dict[str, Any], ...]
    contacts: dict[str, str]
    followups: dict[str, Any]
    agency_name: str
    digest: str  # SHA-256 of the file's bytes ("" without a file)

    @property
    def active(self) -> bool:
        return self.path is not None


NO_POLICY = Policy(None, {}, (), (), {}, {}, "", "")
CONTACT_KEYS = ("agency", "nurse", "phone", "after_hours")


def _fail(path: Path | str, key: str, message: str) -> ResourceError:
    where = f"{key}: " if key else ""
    return ResourceError(f"agency policy {path}: {where}{message}")


@lru_cache(maxsize=1)
def load_policy() -> Policy:
    """The agency policy in force (NO_POLICY without a file); structure checked, values not yet."""
    path, explicit = policy_path()
    if path is None:
        return NO_POLICY
    if not path.is_file():
        raise _fail(
            path, "", "file not found" + (" (named by --policy or NURSE_APP_POLICY)" if explicit else "")
        )
    raw = path.read_bytes()
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise _fail(path, "", f"not valid TOML ({exc})") from None
    return parse_policy(data, path, hashlib.sha256(raw).hexdigest())


def parse_policy(data: dict[str, Any], path: Path | str, digest: str = "") -> Policy:
    data = copy.deepcopy(data)
    agency = data.pop("agency", {})
    if not isinstance(agency, dict) or set(agency) - {"name"}:
        raise _fail(path, "agency", "expected a table with name only")
    checklist = data.pop("checklist", {})
    if not isinstance(checklist, dict) or set(checklist) - {"required", "add"}:
        raise _fail(path, "checklist", "expected required = [...] and/or [[checklist.add]] entries")
    required = checklist.get("required", [])
    if not isinstance(required, list) or not all(isinstance(x, str) and x for x in required):
        raise _fail(path, "checklist.required", "expected a list of checklist item ids")
    added = checklist.get("add", [])
    if not isinstance(added, list):
        raise _fail(path, "checklist.add", "expected [[checklist.add]] entries")
    for i, item in enumerate(added):
        key = f"checklist.add[{i}]"
        if not isinstance(item, dict) or set(item) - {"phase", "id", "text", "required", "help"}:
            raise _fail(path, key, "expected phase, id, text, required and optional help")
        for field in ("phase", "id", "text"):
            if not isinstance(item.get(field), str) or not item[field].strip():
                raise _fail(path, f"{key}.{field}", "required text is missing")
        if not isinstance(item.get("required", False), bool):
            raise _fail(path, f"{key}.required", "expected true or false")
    contacts = data.pop("contacts", {})
    if not isinstance(contacts, dict) or set(contacts) - set(CONTACT_KEYS):
        raise _fail(path, "contacts", f"expected only {', '.join(CONTACT_KEYS)}")
    for key, value in contacts.items():
        if not isinstance(value, str) or not value.strip():
            raise _fail(path, f"contacts.{key}", "expected text")
    followups = data.pop("followups", {})
    if not isinstance(followups, dict) or not all(isinstance(v, dict) for v in followups.values()):
        raise _fail(
            path,
            "followups",
            "expected [followups.<rule id>] tables (enabled, start_days, end_days, first_courses)",
        )
    values: dict[str, Any] = {}

    def flatten(prefix: str, table: dict[str, Any]) -> None:
        for key, value in table.items():
            full = f"{prefix}.{key}" if prefix else key
            if isinstance(value, dict):
                flatten(full, value)
            else:
                values[full] = value

    flatten("", data)
    known = {s.key: s for s in _settings()}
    for key, value in values.items():
        if key not in known:
            raise _fail(
                path,
                key,
                "unknown setting (typo?); see the content report for the settings an agency can set",
            )
        known[key].check_type(path, value)
    return Policy(
        Path(path) if path else None,
        values,
        tuple(required),
        tuple(added),
        {k: v.strip() for k, v in contacts.items()},
        followups,
        str(agency.get("name", "")).strip(),
        digest,
    )


# ----------------------------------------------------------------------------- settings


@dataclass(frozen=True)
class Setting:
    """One value an agency may set: where it lives in resources/ and how far it may move."""

    key: str  # policy key, e.g. "vitals.heart_rate.flag_high"
    title: str
    unit: str
    file: str  # resource file (relative to resources/)
    locate: Callable[
        [dict[str, Any]], tuple[dict[str, Any], str] | None
    ]  # -> (container, field) in the raw data
    direction: str = "any"  # "any" | "down" (may only be lowered) | "up" (may only be raised)
    base: str = APP_DEFAULT  # where the packaged value comes from: "label" or "app default"
    kind: str = "number"  # "number" | "bool" | "pair"

    def check_type(self, path: Path | str, value: object) -> None:
        if self.kind == "bool":
            if not isinstance(value, bool):
                raise _fail(path, self.key, f"expected true or false, got {value!r}")
            return
        if self.kind == "pair":
            if (
                not isinstance(value, list)
                or len(value) != 2
                or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value)
            ):
                raise _fail(path, self.key, f"expected [earliest, latest] minutes, got {value!r}")
            return
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value:
            raise _fail(path, self.key, f"expected a number, got {value!r}")

    def packaged(self, data: dict[str, Any]) -> Any:
        found = self.locate(data)
        if found is None:
            return None
        container, field = found
        return container.get(field)


def _table(*path: str) -> Callable[[dict[str, Any]], tuple[dict[str, Any], str] | None]:
    *tables, field = path

    def locate(data: dict[str, Any]) -> tuple[dict[str, Any], str] | None:
        node: Any = data
        for t in tables:
            node = node.get(t)
            if not isinstance(node, dict):
                return None
        return node, field

    return locate


def _measure(measure_id: str, field: str) -> Callable[[dict[str, Any]], tuple[dict[str, Any], str] | None]:
    def locate(data: dict[str, Any]) -> tuple[dict[str, Any], str] | None:
        for m in data.get("measure", []):
            if m.get("id") == measure_id:
                return m, field
        return None

    return locate


@cache
def _raw(relative: str) -> dict[str, Any] | None:
    """A packaged content file as parsed (read-only: shared by every caller until reload())."""
    from nurse_app.core.resources import read_toml

    try:
        return read_toml(relative)[0]
    except ResourceError:
        return None


_VITAL_FLAGS = (
    ("flag_low", "low flag"),
    ("flag_high", "high flag"),
    ("flag_change", "change flag"),
    ("flag_change_percent", "change flag"),
)
_MONITORING = (
    ("after_start_minutes", "vitals this long after the start", "min", "number"),
    ("before_each_rate_increase", "vitals before each rate increase", "", "bool"),
    ("at_max_rate_every_minutes", "vitals interval at the maximum rate", "min", "number"),
    ("at_end", "vitals at the end of the infusion", "", "bool"),
    ("after_end_minutes", "vitals window after the end", "min", "pair"),
    ("window_minutes", "how early a reading counts / the rate-increase prompt appears", "min", "number"),
)
_LIMIT_KEYS = ("soft_min", "soft_max", "hard_min", "hard_max")


@lru_cache(maxsize=1)
def _settings_cached() -> tuple[Setting, ...]:
    out: list[Setting] = []
    vitals = _raw("vitals.toml") or {}
    for m in vitals.get("measure", []):
        for field, what in _VITAL_FLAGS:
            if field in m:
                unit = "%" if field == "flag_change_percent" else m.get("unit", "")
                out.append(
                    Setting(
                        f"vitals.{m['id']}.{field}",
                        f"{m.get('label', m['id'])}: {what}",
                        unit,
                        "vitals.toml",
                        _measure(m["id"], field),
                    )
                )
    for field, title, unit, kind in _MONITORING:
        out.append(
            Setting(
                f"monitoring.{field}",
                title.capitalize(),
                unit,
                "monitoring.toml",
                _table("vitals", field),
                kind=kind,
            )
        )
    # Observation after the infusion: from a label (EU leaflet "at least"): may only lengthen.
    out.append(
        Setting(
            "observation.minutes",
            "Observation after the infusion",
            "min",
            "monitoring.toml",
            _table("observation", "minutes"),
            direction="up",
            base=LABEL,
        )
    )
    out.append(
        Setting(
            "observation.first_infusion_minutes",
            "Observation after a first infusion",
            "min",
            "monitoring.toml",
            _table("observation", "first_infusion_minutes"),
            direction="up",
            base=LABEL,
        )
    )
    out.append(
        Setting(
            "rates.step_interval_minutes",
            "Rate-step interval where the label gives none",
            "min",
            "limits.toml",
            _table("titration_default", "step_minutes"),
        )
    )
    out.append(
        Setting(
            "pump.max_rate_ml_per_h",
            "Pump / record maximum rate",
            "mL/h",
            "limits.toml",
            _table("pump", "max_rate_ml_per_h"),
            direction="down",
        )
    )
    out.append(
        Setting(
            "visit.max_hours",
            "Longest home visit planned for one day's infusion",
            "h",
            "limits.toml",
            _table("visit", "max_hours"),
        )
    )
    limits = _raw("limits.toml") or {}
    units = {
        "weight_kg": "kg",
        "height_cm": "cm",
        "daily_dose_g_per_kg": "g/kg",
        "course_dose_g_per_kg": "g/kg",
        "days": "days",
    }
    for name in ("weight_kg", "height_cm", "daily_dose_g_per_kg", "course_dose_g_per_kg", "days"):
        table = limits.get(name, {})
        for field in _LIMIT_KEYS:
            if field in table:
                direction = {"hard_max": "down", "hard_min": "up"}.get(field, "any")
                out.append(
                    Setting(
                        f"limits.{name}.{field}",
                        f"{name.replace('_', ' ')}: {field.replace('_', ' ')}",
                        units[name],
                        "limits.toml",
                        _table(name, field),
                        direction=direction,
                    )
                )
    products = _raw("products.toml") or {}
    for p in products.get("product", []):
        out.append(
            Setting(
                f"products.{p['id']}.max_rate_mg_kg_min",
                f"{p.get('brand', p['id'])}: maximum rate",
                "mg/kg/min",
                "products.toml",
                functools.partial(_product_max, product_id=p["id"]),
                direction="down",
                base=LABEL,
            )
        )
    security = _raw("security.toml")
    if security is not None and "idle_lock" in security:
        out.append(
            Setting(
                "security.idle_lock_minutes",
                "Idle lock",
                "min",
                "security.toml",
                _table("idle_lock", "default_minutes"),
            )
        )
    return tuple(out)


def _settings() -> tuple[Setting, ...]:
    return _settings_cached()


def _conc(product: dict[str, Any]) -> float:
    return float(product.get("concentration_percent", 10)) * 10  # mg/mL


def _to_mg(value: float, unit: str, conc: float) -> float:
    from nurse_app.core.catalogue import _to_mg_kg_min

    return _to_mg_kg_min(value, unit, conc)


def _product_max(data: dict[str, Any], product_id: str) -> tuple[dict[str, Any], str] | None:
    """A synthetic container holding the product's highest label maximum in mg/kg/min."""
    for p in data.get("product", []):
        if p.get("id") == product_id:
            conc = _conc(p)
            highest = max((_to_mg(r["max"], r["rate_unit"], conc) for r in p.get("rate", [])), default=None)
            return {"max_rate_mg_kg_min": highest, "__product__": p}, "max_rate_mg_kg_min"
    return None


# ----------------------------------------------------------------------------- overlay


def _num(v: float) -> str:
    return f"{v:g}" if isinstance(v, (int, float)) else str(v)


def _cap_product(path: Path | str, key: str, product: dict[str, Any], cap: float) -> None:
    """Lower every rate row of the product to at most ``cap`` mg/kg/min (label units kept)."""
    conc = _conc(product)
    for row in product.get("rate", []):
        unit = row["rate_unit"]
        factor = _to_mg(1, unit, conc)  # mg/kg/min per one label unit
        if _to_mg(row["max"], unit, conc) <= cap:
            continue
        if _to_mg(row["initial"], unit, conc) > cap:
            raise _fail(
                path,
                key,
                f"{_num(cap)} mg/kg/min is below the label's initial rate "
                f"({_num(row['initial'])} {unit}); a cap cannot start the infusion",
            )
        new_max = cap / factor
        row["max"] = new_max
        if "steps" in row:
            kept = [s for s in row["steps"] if s < new_max]
            if kept:
                row["steps"] = kept
            else:
                del row["steps"]
        if "first_infusion_max" in row and row["first_infusion_max"] > new_max:
            row["first_infusion_max"] = new_max
        row["note"] = (row.get("note", "") + f" Agency policy: capped at {_num(cap)} mg/kg/min.").strip()


def apply(relative: str, data: dict[str, Any]) -> dict[str, Any]:
    """The resource file's data with the agency policy applied (unchanged without a policy)."""
    policy = load_policy()
    path = policy.path
    if path is None:  # no policy active
        return data
    touched = [s for s in _settings() if s.file == relative and s.key in policy.values]
    # Checklist changes go into the current version of each template only: a visit keeps the
    # template version it started with, so an older visit's checklist never changes under it.
    is_checklist = relative in _current_checklists() and bool(
        policy.checklist_required or policy.checklist_added
    )
    if not touched and not is_checklist:
        return data
    data = copy.deepcopy(data)
    for setting in touched:
        value = policy.values[setting.key]
        found = setting.locate(data)
        if found is None:
            raise _fail(path, setting.key, f"not found in resources/{relative}")
        container, field = found
        current = container.get(field)
        if setting.direction == "down" and current is not None and value > current:
            what = "label maximum" if setting.base == LABEL else "hard limit"
            raise _fail(
                path,
                setting.key,
                f"{_num(value)} would loosen the {what} of {_num(current)} {setting.unit}".rstrip()
                + "; a policy may only lower it",
            )
        if setting.direction == "up" and current is not None and value < current:
            what = "label minimum" if setting.base == LABEL else "hard limit"
            raise _fail(
                path,
                setting.key,
                f"{_num(value)} would loosen the {what} of {_num(current)} {setting.unit}".rstrip()
                + "; a policy may only raise it",
            )
        if "__product__" in container:
            _cap_product(path, setting.key, container["__product__"], value)
        elif setting.key == "security.idle_lock_minutes":
            # The agency's idle lock is the default and the longest a nurse may choose.
            low, high = container.get("min_minutes", 1), container.get("max_minutes", value)
            if not low <= value <= high:
                raise _fail(
                    path, setting.key, f"expected {_num(low)} to {_num(high)} minutes, got {_num(value)}"
                )
            container[field] = value
            container["max_minutes"] = value
        else:
            container[field] = value
    if is_checklist:
        _apply_checklist(policy, data)
    return data


def _current_checklists() -> set[str]:
    """The newest version file of each checklist template ("checklists/<id>-v<N>.toml")."""
    import re

    from nurse_app.core.resources import resource_path

    newest: dict[str, tuple[int, str]] = {}
    folder = resource_path("checklists")
    if not folder.is_dir():
        return set()
    for entry in folder.iterdir():
        m = re.fullmatch(r"(.+)-v(\d+)\.toml", entry.name)
        if m and int(m.group(2)) > newest.get(m.group(1), (0, ""))[0]:
            newest[m.group(1)] = (int(m.group(2)), f"checklists/{entry.name}")
    return {name for _, name in newest.values()}


def _apply_checklist(policy: Policy, data: dict[str, Any]) -> None:
    path = policy.path or "(none)"
    items = {item.get("id"): item for phase in data.get("phase", []) for item in phase.get("item", [])}
    for item_id in policy.checklist_required:
        if item_id not in items:
            raise _fail(
                path,
                "checklist.required",
                f"no checklist item {item_id!r} in the current "
                f"{data.get('id')} checklist (version {data.get('version')})",
            )
        items[item_id]["required"] = True
    phases = {phase.get("id"): phase for phase in data.get("phase", [])}
    for i, add in enumerate(policy.checklist_added):
        if add["phase"] not in phases:
            raise _fail(
                path, f"checklist.add[{i}].phase", f"no phase {add['phase']!r}; phases: {', '.join(phases)}"
            )
        if add["id"] in items:
            raise _fail(path, f"checklist.add[{i}].id", f"item {add['id']!r} already exists")
        phases[add["phase"]].setdefault("item", []).append(
            {
                "id": add["id"],
                "text": add["text"],
                "required": add.get("required", False),
                "help": add.get("help") or "Agency policy item.",
                "sources": [],
                "agency_policy": True,
            }
        )


# ----------------------------------------------------------------------------- what is in force


@dataclass(frozen=True)
class InForce:
    key: str
    title: str
    unit: str
    file: str
    value: Any
    packaged: Any
    origin: str  # "label" | "app default" | "agency policy"

    @property
    def text(self) -> str:
        value = self.value
        if isinstance(value, bool):
            shown = "yes" if value else "no"
        elif isinstance(value, list):
            shown = " to ".join(_num(v) for v in value)
        else:
            shown = _num(value)
        return f"{shown} {self.unit}".strip()

    @property
    def help(self) -> str:
        """One line for a screen's tooltip: value, origin and the packaged value it replaced."""
        if self.origin == AGENCY:
            packaged = self.packaged
            was = (
                (" to ".join(_num(v) for v in packaged) if isinstance(packaged, list) else _num(packaged))
                if packaged is not None
                else "none"
            )
            return f"{self.title}: {self.text} (agency policy; the app's value is {was} {self.unit})".replace(
                " )", ")"
            )
        source = (
            "label"
            if self.origin == LABEL
            else "app default - local policy default, confirm with your agency"
        )
        return f"{self.title}: {self.text} ({source})"


def settings_in_force() -> list[InForce]:
    """Every value an agency may set, with the value in force and where it came from."""
    policy = load_policy()
    out = []
    for s in _settings():
        raw = _raw(s.file)
        if raw is None:
            continue
        packaged = s.packaged(raw)
        if s.key in policy.values:
            out.append(InForce(s.key, s.title, s.unit, s.file, policy.values[s.key], packaged, AGENCY))
        else:
            out.append(InForce(s.key, s.title, s.unit, s.file, packaged, packaged, s.base))
    return out


def policy_contacts() -> dict[str, str]:
    return dict(load_policy().contacts)


def validate_policy() -> Policy:
    """Load the policy and every content set with it applied (start-up, --selftest, the report).

    A value the loaders refuse once the policy is applied (a flag outside the plausible range,
    a soft limit above the hard one...) is reported as the policy's error, naming its file.
    """
    policy = load_policy()
    from nurse_app.core.content import CONTENT_SETS, load
    from nurse_app.core.errors import InputError

    for content in CONTENT_SETS:
        try:
            load(content)
        except InputError as exc:  # e.g. the schedule's follow-up overrides (core.schedule.apply_overrides)
            if not policy.active:
                raise
            raise ResourceError(f"agency policy {policy.path}: followups: {exc}") from None
        except ResourceError as exc:
            if policy.active and not str(exc).startswith("agency policy"):
                raise ResourceError(f"agency policy {policy.path}: with this policy applied, {exc}") from None
            raise
    return policy


def help_text(prefix: str) -> str:
    """Help text (tooltip / status tip) for the settings under ``prefix``, e.g. "vitals.heart_rate"
    or "rates.step_interval_minutes": each value in force and where it came from."""
    lines = [s.help for s in settings_in_force() if s.key == prefix or s.key.startswith(prefix + ".")]
    return "\n".join(lines)
