"""The catalogue files load, validate, and a broken file names the file and the field."""

import copy

import pytest

from nurse_app.core import catalogue as catalogue_module
from nurse_app.core.catalogue import load_catalogue
from nurse_app.core.errors import ResourceError
from nurse_app.core.resources import load_toml

ORIGINAL = {name: load_toml(name) for name in ("products.toml", "regimens.toml", "limits.toml")}


@pytest.fixture
def broken(monkeypatch):
    """Returns a function that edits one file's parsed data before the catalogue loads it."""

    def apply(file, edit):
        data = {name: copy.deepcopy(pair) for name, pair in ORIGINAL.items()}
        edit(data[file][0])
        monkeypatch.setattr(catalogue_module, "load_toml", lambda name: data[name])
        catalogue_module.load_catalogue.cache_clear()
        with pytest.raises(ResourceError) as info:
            catalogue_module.load_catalogue()
        return str(info.value)

    yield apply
    catalogue_module.load_catalogue.cache_clear()


def test_catalogue_loads():
    cat = load_catalogue()
    assert len(cat.products) >= 14
    assert {p.concentration_percent for p in cat.products.values()} == {5, 10}


def test_every_entry_cites_known_sources():
    cat = load_catalogue()
    for p in cat.products.values():
        assert p.sources and all(s in cat.sources for s in p.sources)
        for r in p.rates:
            assert r.sources and all(s in cat.sources for s in r.sources)
    for r in cat.regimens.values():
        assert r.sources and all(s in cat.sources for s in r.sources)


def test_unverified_figures_carry_the_mark():
    cat = load_catalogue()
    assert not cat.products["gammaked"].rates[0].verified
    assert not cat.products["gammagard-sd-5"].rates[0].verified
    assert not cat.products["privigen"].vials_verified  # US list unverified
    assert cat.products["gamunex-c"].vials_verified
    assert cat.products["gammaplex-10"].vials == ()
    # Issue 15: the FDA NDC Directory confirmed two Gammaplex 5% sizes (resources/verification.toml).
    assert [(v.grams, v.source, v.verified) for v in cat.products["gammaplex-5"].vials] == [
        (5, "P54", True),
        (10, "P54", True),
    ]


@pytest.mark.parametrize(
    "file, edit, expected",
    [
        (
            "products.toml",
            lambda d: d["product"][0].__setitem__("concentration_percent", "ten"),
            "resources/products.toml: product[0].concentration_percent: Input should be a valid number, got 'ten'",
        ),
        (
            "products.toml",
            lambda d: d["product"][2]["rate"][0].__setitem__("max", -1),
            "resources/products.toml: product[2].rate[0].max: Input should be greater than 0, got -1",
        ),
        (
            "products.toml",
            lambda d: d["product"][0]["rate"][0].__setitem__("sources", ["P999"]),
            "product[0].rate[0].sources[0]: source 'P999' is not listed in [sources]",
        ),
        (
            "products.toml",
            lambda d: d["product"][0]["vial"][0].__setitem__("ml", 99),
            "product[0].vial[0]: 1 g in 99 mL does not match the 10 % concentration",
        ),
        (
            "products.toml",
            lambda d: d["product"][0].__setitem__("concentraton", 10),
            "product[0].concentraton: unknown field (typo?)",
        ),
        (
            "products.toml",
            lambda d: d["product"][1].__setitem__("id", "gamunex-c"),
            "product[1].id: product id 'gamunex-c' appears twice",
        ),
        (
            "regimens.toml",
            lambda d: d["regimen"][0].__setitem__("indication", "flu"),
            "resources/regimens.toml: regimen[0].indication: unknown indication 'flu'",
        ),
        (
            "regimens.toml",
            lambda d: d["regimen"][0].pop("days"),
            "regimen[0].days: required field is missing",
        ),
        (
            "limits.toml",
            lambda d: d["weight_kg"].__setitem__("soft_max", 500),
            "resources/limits.toml: weight_kg.soft_max: soft limit lies outside the hard limits",
        ),
        (
            "limits.toml",
            lambda d: d["dosing_weight"].__setitem__("obesity_bmi_threshold", 3),
            "dosing_weight.obesity_bmi_threshold: Input should be greater than or equal to 15, got 3",
        ),
    ],
)
def test_broken_file_names_file_and_field(broken, file, edit, expected):
    assert expected in broken(file, edit)


def test_invalid_toml_is_reported(monkeypatch, tmp_path):
    from nurse_app.core import resources

    (tmp_path / "products.toml").write_text("[[product]\nid=", encoding="utf-8")
    monkeypatch.setattr(resources, "resource_root", lambda: tmp_path)
    with pytest.raises(ResourceError, match=r"resources/products.toml: not valid TOML"):
        resources.load_toml("products.toml")
    with pytest.raises(ResourceError, match="missing from the installation"):
        resources.load_toml("nothing.toml")
