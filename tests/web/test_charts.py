"""The server-drawn SVG charts: scaled bars and lines, an axis in the chart's currency,
and what a screen reader announces."""

import xml.etree.ElementTree as ET

from groupbill.ui import charts

SVG = "{http://www.w3.org/2000/svg}"


def parse(svg: str) -> ET.Element:
    return ET.fromstring(str(svg))


def test_axis_top_is_a_round_number_at_or_above_the_largest_value():
    assert [charts.nice_top(v) for v in (0, 1, 7, 10, 11, 180, 240, 251, 999_999)] == [
        1, 1, 10, 10, 20, 200, 250, 500, 1_000_000,
    ]  # fmt: skip


def test_axis_labels_are_whole_units_of_the_currency():
    assert charts.axis_label(123_400, "EUR") == "€1,234"
    assert charts.axis_label(123_456, "JPY") == "¥123,456"
    assert charts.axis_label(-5_000, "USD") == "-$50"
    assert charts.axis_label(250, "USD") == "$2.50"


def test_bars_are_scaled_to_the_axis_and_announced():
    svg = parse(charts.bars("Income in EUR", ["Jan", "Feb", "Mar"], [10_000, 25_000, 0], "EUR"))
    assert svg.get("role") == "img"
    assert svg.find(f"{SVG}title").text == "Income in EUR"
    assert "3 bars" in svg.find(f"{SVG}desc").text
    bars = svg.findall(f"{SVG}rect")
    heights = [float(b.get("height")) for b in bars]
    # The axis goes to €250: the €250 bar fills the plot, the €100 bar 40 % of it.
    plot = charts.HEIGHT - charts.TOP - charts.BOTTOM
    assert heights == [round(plot * 0.4, 1), plot, 0.0]
    assert [b.find(f"{SVG}title").text for b in bars] == [
        "Jan: €100.00", "Feb: €250.00", "Mar: €0.00",
    ]  # fmt: skip
    labels = ["".join(t.itertext()) for t in svg.findall(f"{SVG}text")]
    assert labels[0] == "Income in EUR"  # the caption, shown as well
    assert labels[1:6] == ["€0", "€62.50", "€125", "€187.50", "€250"]
    assert labels[6:] == ["Jan", "Feb", "Mar"]


def test_a_label_may_have_two_lines():
    svg = parse(charts.bars("Income", ["Dec\n2025", "Jan"], [1, 2], "EUR"))
    first = svg.findall(f"{SVG}text")[-2]
    assert [t.text for t in first] == ["Dec", "2025"]
    assert svg.find(f"{SVG}rect/{SVG}title").text == "Dec 2025: €0.01"


def test_negative_bars_go_below_zero():
    svg = parse(charts.bars("Net", ["a", "b"], [-500, 1_000], "EUR"))
    negative, positive = svg.findall(f"{SVG}rect")
    assert "negative" in negative.get("class")
    assert float(negative.get("y")) == float(positive.get("y")) + float(positive.get("height"))


def test_line_has_a_point_per_value():
    svg = parse(charts.line("MRR in USD", ["May", "Jun", "Now"], [100, 200, 150], "USD"))
    points = svg.find(f"{SVG}polyline").get("points").split()
    assert len(points) == 3
    ys = [float(p.split(",")[1]) for p in points]
    assert ys[1] < ys[2] < ys[0]  # higher amounts are drawn higher up
    assert [c.find(f"{SVG}title").text for c in svg.findall(f"{SVG}circle")] == [
        "May: $1.00", "Jun: $2.00", "Now: $1.50",
    ]  # fmt: skip


def test_text_is_escaped():
    svg = str(charts.bars("<script>alert(1)</script>", ["<b>"], [1], "EUR"))
    assert "<script>" not in svg and "<b>" not in svg
    assert parse(svg).find(f"{SVG}title").text == "<script>alert(1)</script>"
