"""Exports for analysts' own tables: a list of similar cases and a comparison, as CSV and as
Excel (openpyxl), one row per similar case or per compared role, every passage quoted verbatim
in one column and its citation (`qa.display.reference`) in the next.

Text is data: Excel cells are written as strings (a passage starting with "=" stays text,
never a formula); in CSV such a cell gets a leading apostrophe, which spreadsheet programs
read as "text", so opening the file never runs a formula.
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from typing import Sequence

from .cases import ROLE_LABELS, Comparison, SimilarCase
from .display import tag_label, reference

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class Table:
    title: str  # the sheet's name
    header: tuple[str, ...]
    rows: tuple[tuple[str | float | int, ...], ...]


def similar_table(case: str, similar: Sequence[SimilarCase], filters: str = "") -> Table:
    """One row per similar case: its rank, score (0–100) and reasons, then each matching pair
    of passages (this case's, the similar case's) with their citations."""
    pairs = max((len(s.pairs) for s in similar), default=0)
    header = ["case", "filters", "rank", "similar case", "similarity (0-100)", "centered vector cosine", "case model cosine",
              "wording (TF-IDF) cosine",
              "shared tags", "shared terms"]
    for n in range(1, pairs + 1):
        header += [f"passage {n} (this case)", f"citation {n} (this case)", f"passage {n} (similar case)", f"citation {n} (similar case)"]
    rows = []
    for s in similar:
        model = "" if s.case_model_score is None else round(s.case_model_score, 4)
        row = [case, filters, s.rank, s.case, round(s.score, 1), round(s.vector_score, 4), model, round(s.keyword_score, 4),
               ", ".join(map(tag_label, s.shared_tags)), "、".join(s.shared_terms)]
        for pair in s.pairs:
            row += [pair.mine.text if pair.mine else "", reference(pair.mine) if pair.mine else "", pair.theirs.text, reference(pair.theirs)]
        rows.append(tuple(row + [""] * (len(header) - len(row))))
    return Table("similar cases", tuple(header), tuple(rows))


def comparison_table(comparison: Comparison, filters: str = "") -> Table:
    """One row per role (background, approach, results); per case a passage and its citation."""
    header = ["role", "filters"]
    for case in comparison.cases:
        header += [f"{case}: passage", f"{case}: citation"]
    rows = []
    for role, cells in comparison.cells:
        row: list[str] = [ROLE_LABELS[role], filters]
        for chunk in cells:
            row += [chunk.text, reference(chunk)] if chunk else ["", ""]
        rows.append(tuple(row))
    return Table("comparison", tuple(header), tuple(rows))


def _csv_safe(value):
    return "'" + value if isinstance(value, str) and value.startswith(_FORMULA_START) else value


def table_csv(table: Table) -> bytes:
    """UTF-8 with a byte-order mark, so spreadsheet programs read the Chinese text right."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(table.header)
    writer.writerows([_csv_safe(v) for v in row] for row in table.rows)
    return out.getvalue().encode("utf-8-sig")


def table_xlsx(table: Table) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    book = Workbook()
    sheet = book.active
    sheet.title = table.title[:31]
    sheet.append(table.header)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for r, row in enumerate(table.rows, start=2):
        for c, value in enumerate(row, start=1):
            cell = sheet.cell(row=r, column=c)
            cell.value = value
            if isinstance(value, str):
                cell.data_type = "s"  # never a formula, whatever the text starts with
                cell.alignment = Alignment(wrap_text=True, vertical="top")
    for column in sheet.columns:
        sheet.column_dimensions[column[0].column_letter].width = 48 if column[0].value and "passage" in str(column[0].value) else 22
    sheet.freeze_panes = "A2"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
