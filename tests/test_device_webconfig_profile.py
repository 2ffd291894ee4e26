"""Locator profiles: the shipped one loads complete, bad files are named precisely, detection picks the most
specific family from Product Status, the inventory's choice wins. No browser needed."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from harness.device.infopage import InfoPage, InfoSection
from harness.device.webconfig.profile import (
    DEFAULT_PROFILE,
    PROFILE_DIR,
    REQUIRED_LOCATORS,
    LocatorSpec,
    available_profiles,
    default_profile,
    detect_profile,
    load_profile,
    select_profile,
)
from harness.lab.yamlfile import InventoryError

SHIPPED = PROFILE_DIR / f"{DEFAULT_PROFILE}.yaml"


def product(model: str, firmware: str, layout: str = "advanced") -> InfoPage:
    values = {"Model": model, "Firmware": firmware}
    return InfoPage(title="Product Status", product=model, layout=layout,
                    sections=(InfoSection("info-product", "", values),))


def write(path: Path, data: dict[str, object]) -> Path:
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def shipped_data() -> dict[str, object]:
    return yaml.safe_load(SHIPPED.read_text())


def test_the_shipped_profile_has_every_page_and_locator_the_page_objects_use() -> None:
    profile = default_profile()
    assert DEFAULT_PROFILE in available_profiles()
    for page, names in REQUIRED_LOCATORS.items():
        assert set(names) <= set(profile.page(page).locators), page
    # what FIDELITY.md knows of real devices
    assert profile.locator("login", "password").name == "INPUTT_PASSWORD"
    assert "OnSetButton" in (profile.locator("login", "submit").css or "")
    assert profile.locator("job_history", "history_type").name == "INPUTD_HISTORYTYPE"
    assert profile.page("product_status").path == "/PRESENTATION/ADVANCED/INFO_PRTINFO/TOP"
    assert profile.messages.setup_complete == "Setup complete."
    assert profile.language_cookie is not None and profile.language_cookie.value == "lang_b&1/lang_a&1"
    # the fax server pages reuse the e-mail pages' locators under their own paths
    assert profile.page("fax_basic").locators == profile.page("email_basic").locators
    assert profile.page("fax_basic").path != profile.page("email_basic").path and profile.page("fax_basic").optional


def test_a_profile_is_found_by_name_or_by_path(tmp_path: Path) -> None:
    copy = shutil.copy(SHIPPED, tmp_path / "copy.yaml")
    assert load_profile(copy).pages == load_profile(DEFAULT_PROFILE).pages
    with pytest.raises(InventoryError, match=f"no locator profile 'nope' .*known: .*{DEFAULT_PROFILE}"):
        load_profile("nope")
    with pytest.raises(InventoryError, match="no such file"):
        load_profile(tmp_path / "missing.yaml")


@pytest.mark.parametrize(("change", "expected"), [
    (lambda d: d["pages"]["email_basic"]["locators"].update(ok={"name": "A", "css": "b"}),
     "pages.email_basic.locators.ok: give exactly one of name, role, label, css (got name, css)"),
    (lambda d: d["pages"]["login"]["locators"].update(password={"text": "Password"}),
     "pages.login.locators.password: give exactly one of name, role, label, css"),
    (lambda d: d["pages"]["login"]["locators"].update(password={"label": "Password", "text": "x"}),
     "text (the accessible name) goes with role"),
    (lambda d: d["pages"]["login"]["locators"].pop("submit"), "pages.login.locators.submit: missing"),
    (lambda d: d["pages"].pop("export"), "pages.export: missing"),
    (lambda d: d["pages"]["top"].update(path="PRESENTATION/TOP"), "pages.top.path: expected a path on the device"),
    (lambda d: d["detect"].update(models=["WF-(("]), "detect.models: 'WF-((' is not a regular expression"),
    (lambda d: d["pages"]["login"]["locators"]["password"].update(colour="red"), "colour: Extra inputs"),
])
def test_a_bad_profile_names_the_file_and_the_key(tmp_path: Path, change: object, expected: str) -> None:
    data = shipped_data()
    change(data)  # type: ignore[operator]
    path = write(tmp_path / "bad.yaml", data)
    with pytest.raises(InventoryError) as bad:
        load_profile(path)
    assert str(path) in str(bad.value) and expected in str(bad.value)


def test_radio_options_map_both_ways() -> None:
    spec = LocatorSpec(name="INPUTR_CERTVALIDATION", values={"Enable": "ENABLE", "Disable": "DISABLE"})
    assert spec.value_of("Enable") == "ENABLE" and spec.option_of("DISABLE") == "Disable"
    assert spec.option_of("OTHER") is None
    with pytest.raises(KeyError, match="known: Enable, Disable"):
        spec.value_of("On")
    assert spec.describe() == "name=INPUTR_CERTVALIDATION"
    assert LocatorSpec(role="button", text="OK").describe() == "role=button 'OK'"


def test_detection_picks_the_most_specific_family(tmp_path: Path) -> None:
    shutil.copy(SHIPPED, tmp_path / SHIPPED.name)
    fork = shipped_data()
    fork["name"] = "epson-sy"
    fork["detect"] = {"layout": "advanced", "firmware_families": ["SY"]}
    write(tmp_path / "epson-sy.yaml", fork)
    narrow = shipped_data()
    narrow["name"] = "epson-am-sy"
    narrow["detect"] = {"layout": "advanced", "firmware_families": ["SY"], "models": ["AM-C\\d+( Series)?"]}
    write(tmp_path / "epson-am-sy.yaml", narrow)

    assert detect_profile(product("AM-C4000 Series", "11.08.SY19O7"), tmp_path).name == "epson-am-sy"
    assert detect_profile(product("WF-C9999 Series", "11.08.SY19O7"), tmp_path).name == "epson-sy"
    assert detect_profile(product("WF-C5790 Series", "06.72.LW23O3"), tmp_path).name == DEFAULT_PROFILE
    # nothing matches a consumer page: the default stands
    assert detect_profile(product("WF-7840 Series", "", layout="consumer"), tmp_path).name == DEFAULT_PROFILE


def test_the_inventory_choice_wins_over_detection(tmp_path: Path) -> None:
    fork = shipped_data()
    fork["name"] = "lab-fork"
    path = write(tmp_path / "lab-fork.yaml", fork)
    assert select_profile(str(path), product("AM-C4000 Series", "11.08.SY19O7")).name == "lab-fork"
    assert select_profile(None, product("AM-C4000 Series", "11.08.SY19O7")).name == DEFAULT_PROFILE
    assert select_profile(None).name == DEFAULT_PROFILE
