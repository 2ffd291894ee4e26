"""Reading Web Config information pages: pages of our own making in Epson's real layouts, and broken input."""

from __future__ import annotations

from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from harness.device.htmltree import parse_html
from harness.device.infopage import parse_info_page

PAGES = Path(__file__).parent / "data" / "webconfig"


def page(name: str) -> str:
    return (PAGES / name).read_text(encoding="utf-8")


def test_advanced_network_status_reads_every_tab_with_its_label() -> None:
    info = parse_info_page(page("advanced-INFO_NWINFO.html"))
    assert (info.title, info.product, info.layout) == ("Network Status", "WF-C9999 Series", "advanced")
    assert [(s.id, s.label) for s in info.sections] == [
        ("info-network", "Network"), ("info-email", "Email Server"), ("info-wfd", "Wi-Fi Direct")]
    network = info.section("info-network")
    assert network is not None
    assert network.values["IP Address"] == "192.0.2.44"
    assert network.values["MAC Address"] == "0E:6A:7F:00:00:A1"
    assert network.values["Secondary DNS Server"] == "", "an empty value is read as empty, not skipped"
    assert network.values["IPv6 Stateless Address 1"] == "2001:db8::c6a:7fff:fe00:a1/64\n2001:db8:1::a1/64"
    assert list(network.values)[:3] == ["Device Name", "Connection Status", "Obtain IP Address"], "page order"
    email = info.section("info-email")
    assert email is not None and email.values["Sender's Email Address"] == "printer@contoso.example"
    assert email.values["Current Status"] == "Signed in"
    assert not info.login_required and info.warnings == ()


def test_keys_merge_with_the_first_tab_winning_and_lookups_ignore_case_and_spacing() -> None:
    info = parse_info_page(page("advanced-INFO_NWINFO.html"))
    assert info.values["Device Name"] == "EPSON7F00A1", "the Network tab's, not Wi-Fi Direct's"
    assert info.values["Connection Method"] == "Not Set"
    assert info.get("ip  address") == "192.0.2.44"
    assert info.get("No Such Key") is None and info.get("No Such Key", "-") == "-"


def test_advanced_page_without_tabs_files_its_values_under_one_section() -> None:
    info = parse_info_page(page("advanced-INFO_PRTINFO.html"))
    assert info.title == "Product Status"
    assert [s.id for s in info.sections] == [""]
    assert info.values["Serial Number"] == "X9ZZ012345"
    assert info.values["Firmware"] == "08.12.QA05R3"
    assert info.values["Printer Status"] == "Available. Paper <A4> low.", "entities decoded, no-break spaces folded"


def test_consumer_product_status_reads_status_boxes_and_network_rows() -> None:
    info = parse_info_page(page("consumer-PRTINFO.HTML"))
    assert (info.title, info.product, info.layout) == ("Product Status", "XP-9999 Series", "consumer")
    assert [(s.id, s.label) for s in info.sections] == [
        ("info-main", "Basic"), ("info-network", "Network"), ("info-wfd", "Wi-Fi Direct")]
    main = info.section("info-main")
    assert main is not None
    assert main.values == {"Printer Status": "Paper out or loaded incorrectly.", "Scanner Status": "Available.",
                           "Other Status": ""}, "noscript text is not page text"
    network = info.section("info-network")
    assert network is not None
    assert network.values["IP Address"] == "198.51.100.23"
    assert network.values["Default Gateway"] == "", "&nbsp; alone is an empty value"
    assert network.values["Proxy Server"] == "Do Not Use", "a trailing line break is not part of the value"
    assert info.values["Device Name"] == "EPSON51C0DE"


def test_a_page_showing_the_login_form_says_so() -> None:
    html = ('<html><head><title>WF-C9999 Series</title></head><body class="contents"><div class="wrap">'
            '<div class="header-main">Job History</div><div class="warning"><p>Incorrect user name or password</p>'
            '</div><form id="login_form"><input type="password" name="INPUTT_PASSWORD">'
            '<button onclick="OnSetButton(); return false;">OK</button></form></div></body></html>')
    info = parse_info_page(html)
    assert info.login_required and info.sections == ()
    assert info.warnings == ("Incorrect user name or password",)


def test_broken_markup_still_reads_what_is_there() -> None:
    html = ('<div class="header-main">Network Status</div></span></p>'
            '<div class="tabbed-pane" id="info-network"><dl class="values">'
            '<dt class="key"><span class="key">IP Address :</span>'  # dt never closed
            '<dd class="value"><div class="preserve-white-space">192.0.2.9</div>'
            '<dt class="key"><span class="key">Subnet Mask&nbsp;:</span><dd class="value">255.255.0.0'
            '</dl><br><img src="x"></table>')
    info = parse_info_page(html)
    assert info.values == {"IP Address": "192.0.2.9", "Subnet Mask": "255.255.0.0"}


def test_tree_builder_closes_implied_elements_and_ignores_stray_end_tags() -> None:
    root = parse_html("<ul><li>one<li>two</ul><table><tr><td>a<td>b<tr><td>c</table></b><p>after")
    assert [li.text() for li in root.find_all("li")] == ["one", "two"]
    assert [[td.text() for td in tr.find_all("td")] for tr in root.find_all("tr")] == [["a", "b"], ["c"]]
    assert root.find("p") is not None and root.text().endswith("after")
    assert parse_html("<script>var x = '<dl>';</script><div>shown</div>").text() == "shown"


@settings(max_examples=150, deadline=None)
@given(st.lists(st.sampled_from([*"<>/=\"' abcdltpvky-:&;#\n", '<dl class="values">', "<dt>", "<dd>", "</dl>",
                                  '<span class="key">', "&nbsp;", "<div", '<div class="tabbed-pane" id="p">', "</div>",
                                  "<td class='item-key'>", "<tr>", "<legend>", "<fieldset>"]), max_size=80))
def test_any_text_parses_without_raising(parts: list[str]) -> None:
    info = parse_info_page("".join(parts))
    assert isinstance(info.values, dict)
