"""``nurse-app carton``: a scanned code or a picture of it, what it says, or why it is refused (exit 2)."""

from __future__ import annotations

import json

PRIVIGEN_40 = "00344206439401"
GOOD = f"]d201{PRIVIGEN_40}17{'40'}1200" + "10ABC123<GS>21SER1"


def test_a_good_carton_prints_product_ndc_gtin_lot_expiry_serial(cli):
    result = cli("carton", GOOD)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == (
        "Privigen 10 % 40 g / 400 mL · NDC 44206-439-40 · GTIN 00344206439401 · lot ABC123 · "
        "expires 31 Dec 2040 · serial SER1"
    )


def test_json_says_everything_read_and_shows_gs_as_text(cli):
    result = cli("carton", GOOD.replace("<GS>", "\x1d"), "--product", "privigen", "--json")
    data = json.loads(result.stdout)
    assert result.returncode == 0
    assert data["scanned"] == "]d201003442064394011740120010ABC123<GS>21SER1"
    assert {
        k: data[k] for k in ("accepted", "product", "ndc", "ndc_verified", "lot", "expiry", "serial")
    } == {
        "accepted": True,
        "product": "privigen",
        "ndc": "44206-439-40",
        "ndc_verified": True,
        "lot": "ABC123",
        "expiry": "2040-12-31",
        "serial": "SER1",
    }


def test_refusals_exit_2_with_the_reason(cli):
    wrong = cli("carton", GOOD, "--product", "octagam-10")
    assert wrong.returncode == 2 and "refused: Wrong product: this carton is Privigen 10 %" in wrong.stderr
    expired = cli("carton", GOOD.replace("17401200", "17200131"))
    assert expired.returncode == 2 and "Expired carton" in expired.stderr
    bad = cli("carton", GOOD.replace(PRIVIGEN_40, PRIVIGEN_40[:-1] + "7"))
    assert bad.returncode == 2 and "check digit" in bad.stderr and "Traceback" not in bad.stderr
    garbage = cli("carton", "\x1b[31mhello")
    assert garbage.returncode == 2 and "\x1b" not in garbage.stderr + garbage.stdout


def test_a_picture_file_is_decoded(cli, tmp_path):
    import zxingcpp
    from PIL import Image

    symbol = memoryview(
        zxingcpp.create_barcode(
            f"(01){PRIVIGEN_40}(17)401231(10)IMG7(21)Z9", zxingcpp.BarcodeFormat.DataMatrix, gs1=True
        ).to_image(scale=5)
    )
    picture = tmp_path / "carton.png"
    Image.frombytes("L", (symbol.shape[1], symbol.shape[0]), symbol.tobytes()).save(picture)
    result = cli("carton", "--image", picture)
    assert result.returncode == 0 and "lot IMG7" in result.stdout and "serial Z9" in result.stdout
    (tmp_path / "not-a-picture.png").write_text("hello")
    refused = cli("carton", "--image", tmp_path / "not-a-picture.png")
    assert refused.returncode == 2 and "could not be read as a picture" in refused.stderr
    blank = tmp_path / "blank.png"
    Image.new("L", (200, 200), 255).save(blank)
    none = cli("carton", "--image", blank)
    assert none.returncode == 2 and "No carton code was found" in none.stderr


def test_text_or_image_exactly_one(cli, tmp_path):
    assert cli("carton").returncode == 2
    assert cli("carton", GOOD, "--image", tmp_path / "x.png").returncode == 2
