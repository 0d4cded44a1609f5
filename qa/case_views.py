"""The case charts and tables the app shows, as data: a map of the cases (Altair, a point
selection named `MAP_SELECTION` over the `case` field), a heatmap of case-to-case similarity
(0–100) and the themes × institution types counts (pandas). Built from a `CaseLibrary`; the app
only places them, with `labels` in the interface's language. Vega-Lite escapes what it draws: no
HTML is written here.
"""
from __future__ import annotations

from collections import Counter
from typing import Mapping, Sequence

import altair as alt
import pandas as pd

from .cases import CaseLibrary

MAP_SELECTION = "pick"
NONE = "—"  # a case without a tag of that kind
COLOUR_BY = ("theme", "institution_type")
# What the charts and the table call things (legend, tooltips, axis names); the app passes its own.
LABELS = {"case": "Case", "other_case": "Other case", "theme": "Theme", "institution_type": "Institution type", "similarity": "Similarity 0–100"}


def case_map(library: CaseLibrary, names: Sequence[str], colour_by: str = "theme", labels: Mapping[str, str] = LABELS) -> alt.Chart:
    """The cases `names` on the first two principal axes of the centered case vectors (of the
    whole library, so the map does not move when a filter hides some), coloured by their
    main theme or institution type; hovering shows the case, clicking selects it."""
    if colour_by not in COLOUR_BY:
        raise ValueError(f"colour_by must be one of {', '.join(COLOUR_BY)}, not {colour_by!r}")
    points = library.similarity.projection()
    rows = []
    for name in names:
        case, (x, y) = library.case(name), points[library.names.index(name)]
        rows.append({
            "case": name, "x": float(x), "y": float(y),
            labels["theme"]: case.theme or NONE, labels["institution_type"]: case.institution_type or NONE,
        })
    pick = alt.selection_point(name=MAP_SELECTION, fields=["case"], on="click")
    return (
        alt.Chart(pd.DataFrame(rows))
        .mark_circle(size=220, stroke="white", strokeWidth=1)
        .encode(
            x=alt.X("x:Q", axis=None, scale=alt.Scale(zero=False, padding=24)),
            y=alt.Y("y:Q", axis=None, scale=alt.Scale(zero=False, padding=24)),
            opacity=alt.when(pick).then(alt.value(0.9)).otherwise(alt.value(0.35)),
            color=alt.Color(f"{labels[colour_by]}:N", legend=alt.Legend(orient="bottom", columns=3)),
            tooltip=[alt.Tooltip("case:N", title=labels["case"]), f"{labels['theme']}:N", f"{labels['institution_type']}:N"],
        )
        .add_params(pick)
        .properties(height=360)
    )


def similarity_heatmap(library: CaseLibrary, names: Sequence[str], labels: Mapping[str, str] = LABELS) -> alt.Chart:
    """Case × case similarity (percentile among the corpus's pairs, 0–100) for `names`."""
    percentiles = library.percentiles()
    rows = [library.names.index(n) for n in names]
    cells = [
        {"case": a, "other case": b, "similarity": round(float(percentiles[i, j]), 1)}
        for a, i in zip(names, rows) for b, j in zip(names, rows) if a != b
    ]
    return (
        alt.Chart(pd.DataFrame(cells, columns=["case", "other case", "similarity"]))
        .mark_rect()
        .encode(
            x=alt.X("other case:N", sort=list(names), axis=alt.Axis(labelLimit=120, title=None)),
            y=alt.Y("case:N", sort=list(names), axis=alt.Axis(labelLimit=160, title=None)),
            color=alt.Color("similarity:Q", scale=alt.Scale(domain=[0, 100], scheme="blues"), title=labels["similarity"]),
            tooltip=[alt.Tooltip("case:N", title=labels["case"]), alt.Tooltip("other case:N", title=labels["other_case"]),
                     alt.Tooltip("similarity:Q", title=labels["similarity"])],
        )
        .properties(height=max(200, 36 * len(names)))
    )


def theme_type_counts(library: CaseLibrary, names: Sequence[str], labels: Mapping[str, str] = LABELS) -> pd.DataFrame:
    """Cases per theme (rows) and institution type (columns); a case counts under each theme
    and type its passages carry, and under — where it has none."""
    counts: Counter[tuple[str, str]] = Counter()
    for name in names:
        case = library.case(name)
        themes, types = case.values("theme") or [NONE], case.values("institution_type") or [NONE]
        counts.update((t, i) for t in themes for i in types)
    table = pd.Series(counts, dtype="int64").unstack(fill_value=0) if counts else pd.DataFrame()
    return table.sort_index().sort_index(axis=1).rename_axis(index=labels["theme"], columns=labels["institution_type"])
