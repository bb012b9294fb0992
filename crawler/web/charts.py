"""Server-rendered SVG bar charts: geometry computed here, drawn by the template (no script, no inline style)."""

from __future__ import annotations

from typing import Any

WIDTH, HEIGHT, PAD_LEFT, PAD_BOTTOM, PAD_TOP = 640, 260, 48, 34, 12
SERIES = (
    ("perm_certified", "PERM certified", "#1f6f43"),
    ("perm_denied", "PERM denied", "#b3261e"),
    ("lca_certified", "H-1B LCAs certified", "#2456a6"),
)
LEVEL_COLOURS = {"I": "#c6dbef", "II": "#6baed6", "III": "#2171b5", "IV": "#08306b"}


def _level(key: str) -> tuple[str, str]:
    """('Level II', colour) for a stored wage-level key, whether it reads 'II' or 'Level II'."""
    roman = key.removeprefix("Level").strip()
    return f"Level {roman}", LEVEL_COLOURS.get(roman, "#888888")


def _ticks(top: int) -> list[int]:
    step = max(1, -(-top // 4))
    return list(range(0, top + step, step))[:6]


def filings_chart(years: list[dict[str, Any]]) -> dict[str, Any] | None:
    """Grouped bars per fiscal year: PERM certified, PERM denied, LCA certified."""
    if not years:
        return None
    top = max(max(y[key] for key, _, _ in SERIES) for y in years) or 1
    ticks = _ticks(top)
    scale_top = ticks[-1] or 1
    plot_w, plot_h = WIDTH - PAD_LEFT - 8, HEIGHT - PAD_BOTTOM - PAD_TOP
    group_w = plot_w / len(years)
    bar_w = max(4.0, min(28.0, group_w * 0.8 / len(SERIES)))
    bars, labels = [], []
    for i, y in enumerate(years):
        x0 = PAD_LEFT + i * group_w + (group_w - bar_w * len(SERIES)) / 2
        for j, (key, name, colour) in enumerate(SERIES):
            h = plot_h * y[key] / scale_top
            bars.append(
                {
                    "x": round(x0 + j * bar_w, 1),
                    "y": round(PAD_TOP + plot_h - h, 1),
                    "w": round(bar_w - 1, 1),
                    "h": round(h, 1),
                    "fill": colour,
                    "title": f"FY{y['fiscal_year']}: {y[key]} {name}",
                }
            )
        labels.append({"x": round(PAD_LEFT + (i + 0.5) * group_w, 1), "text": f"FY{y['fiscal_year']}"})
    grid = [{"y": round(PAD_TOP + plot_h - plot_h * t / scale_top, 1), "text": str(t)} for t in ticks]
    return {
        "width": WIDTH,
        "height": HEIGHT,
        "left": PAD_LEFT,
        "right": WIDTH - 8,
        "label_y": HEIGHT - 8,
        "bars": bars,
        "labels": labels,
        "grid": grid,
        "legend": [{"name": n, "fill": c} for _, n, c in SERIES],
    }


def wage_levels_chart(years: list[dict[str, Any]]) -> dict[str, Any] | None:
    """One horizontal stacked bar per fiscal year: PERM cases by prevailing-wage level."""
    rows = [y for y in years if y.get("perm_wage_levels")]
    if not rows:
        return None
    row_h, label_w, width = 30, 80, WIDTH
    top = max(sum(y["perm_wage_levels"].values()) for y in rows) or 1
    levels = sorted({lvl for y in rows for lvl in y["perm_wage_levels"]})
    bars = []
    for i, y in enumerate(rows):
        x = float(label_w)
        for lvl in levels:
            n = y["perm_wage_levels"].get(lvl, 0)
            if not n:
                continue
            w = (width - label_w - 40) * n / top
            bars.append(
                {
                    "x": round(x, 1),
                    "y": 6 + i * row_h,
                    "w": round(w, 1),
                    "h": row_h - 8,
                    "fill": _level(lvl)[1],
                    "title": f"FY{y['fiscal_year']}: {n} at {_level(lvl)[0]}",
                }
            )
            x += w
    return {
        "width": width,
        "height": 12 + len(rows) * row_h,
        "bars": bars,
        "labels": [{"y": 6 + i * row_h + row_h / 2, "text": f"FY{y['fiscal_year']}"} for i, y in enumerate(rows)],
        "legend": [{"name": _level(lvl)[0], "fill": _level(lvl)[1]} for lvl in levels],
    }
