"""One table style for the whole dashboard: the page's own font, human column names, text that
wraps instead of widening the page, and 'None.' instead of an empty header. Every table with an
id can be taken out as CSV or Excel: exactly the rows and columns shown (what the page was
allowed to show this user), spreadsheet-safe as the feedback packs are."""

from __future__ import annotations

import base64
import csv
import io
import re

import numpy as np
import pandas as pd
from dash import ALL, MATCH, Input, Output, State, callback, ctx, dash_table, dcc, html, no_update

from murmuration.csvsafe import safe_cell

EXPORT_BUTTON = "table-export"  # pattern-matching ids: one callback serves every table
EXPORT_ROWS = "table-rows"
EXPORT_DOWNLOAD = "table-download"
FORMATS = {"csv": "CSV", "xlsx": "Excel"}

STYLE_TABLE = {"overflowX": "auto", "maxWidth": "100%"}
# Named, not "inherit": dash-table's own stylesheet sets monospace on the table around the cells.
FONT = 'system-ui, -apple-system, "Segoe UI", sans-serif'
STYLE_CELL = {"textAlign": "left", "fontFamily": FONT, "fontSize": "0.9rem",
              "padding": "6px 10px", "whiteSpace": "normal", "height": "auto",
              "minWidth": "60px", "maxWidth": "420px", "border": "0",
              "borderBottom": "1px solid #e4e4e4"}
STYLE_HEADER = {"fontWeight": "600", "backgroundColor": "#f6f8fa",
                "borderBottom": "2px solid #d0d7de"}


def data_table(frame: pd.DataFrame, columns: dict[str, str], *, table_id: str | None = None,
               empty: str = "None.", page_size: int | None = None,
               numeric: tuple[str, ...] = (), wide: tuple[str, ...] = (),
               sortable: bool = False, links: tuple[str, ...] = (),
               export: str | bool | None = None) -> html.Div | dash_table.DataTable:
    """``frame`` shown with ``columns`` (field -> human name, in order). Values should already
    be formatted for people (see components.format); ``numeric`` columns are right-aligned,
    ``wide`` ones (reasons, descriptions) get room to wrap; ``links`` columns hold Markdown
    links the caller built (``[text](url)``; never partner text: Markdown would render it).
    A table with an id gets CSV and Excel downloads named ``export`` (default: the id);
    ``export=False`` leaves them out."""
    if frame is None or frame.empty:
        return html.P(empty, className="muted empty-table",
                      **({"id": table_id} if table_id else {}))
    shown = frame[list(columns)].rename(columns=columns)
    conditional = ([{"if": {"column_id": columns[c]}, "textAlign": "right",
                     "whiteSpace": "nowrap"} for c in numeric]
                   + [{"if": {"column_id": columns[c]}, "minWidth": "260px"} for c in wide])
    options = {"id": table_id} if table_id else {}
    if page_size:
        options.update(page_size=page_size, page_action="native")
    if sortable:
        options.update(sort_action="native")
    if links:
        options.update(markdown_options={"link_target": "_blank"})
    table = dash_table.DataTable(
        data=shown.to_dict("records"),
        columns=[{"name": c, "id": c, **({"presentation": "markdown"} if c in
                                         {columns[k] for k in links} else {})}
                 for c in shown.columns],
        style_table=STYLE_TABLE, style_cell=STYLE_CELL, style_header=STYLE_HEADER,
        style_cell_conditional=conditional, **options)
    if not table_id or export is False:
        return table
    return exportable(table, table_id, export if isinstance(export, str) else table_id,
                      list(shown.columns), [[_cell(v) for v in row] for row in
                                            shown.astype(object).values.tolist()])


def _cell(value):
    """A cell as the page shows it: no NaN, and a whole number without ".0"."""
    if value is None or (isinstance(value, float) and value != value):
        return None
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if hasattr(value, "item"):  # numpy scalars
        return _cell(value.item())
    return value if isinstance(value, int | float | str | bool) else str(value)


def exportable(table, table_id: str, name: str, columns: list[str], rows: list[list],
               what: str = "this table"):
    """The table with its downloads: the rows travel with the page (a dcc.Store), so the file
    holds what this user was shown and nothing a request could ask for beyond it."""
    return html.Div(className="exportable", children=[
        table,
        html.Div(className="table-export", children=[
            html.Span(f"Download {what}:", className="muted"),
            *[html.Button(label, id={"type": EXPORT_BUTTON, "table": table_id, "format": kind},
                          n_clicks=0, className="link-button", title=f"{label} file")
              for kind, label in FORMATS.items()]]),
        dcc.Store(id={"type": EXPORT_ROWS, "table": table_id},
                  data={"name": name, "columns": columns, "rows": rows}),
        dcc.Download(id={"type": EXPORT_DOWNLOAD, "table": table_id}),
    ])


def file_stem(name: str) -> str:
    """A download's name without its extension: what it shows, in characters any system keeps."""
    return (" ".join(re.sub(r"[^\w .,()-]+", " ", name).split()).strip(" .") or "table")[:120]


def file_name(name: str, kind: str) -> str:
    return f"{file_stem(name)}.{kind}"


def table_file(table: dict, kind: str) -> dict:
    """A dcc.Download payload: the table as CSV (UTF-8 with BOM, formula-like cells behind an
    apostrophe, as the feedback packs) or as an .xlsx sheet (every cell text, never a
    formula)."""
    columns, rows = list(table["columns"]), [list(r) for r in table["rows"]]
    name = file_name(str(table.get("name") or "table"), kind)
    if kind == "csv":
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow([safe_cell(c) for c in columns])
        writer.writerows([safe_cell(v) for v in row] for row in rows)
        return dcc.send_bytes(b"\xef\xbb\xbf" + out.getvalue().encode("utf-8"), name)
    if kind != "xlsx":
        raise ValueError(f"unknown export format {kind!r}")
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    sheet = book.active
    sheet.title = re.sub(r"[\\/*?:\[\]]", " ", str(table.get("name") or "table"))[:31]
    for r, values in enumerate([columns, *rows], start=1):
        for c, value in enumerate(values, start=1):
            cell = sheet.cell(row=r, column=c, value="" if value is None else str(value))
            cell.data_type = "s"  # text, whatever it starts with: never run as a formula
            if r == 1:
                cell.font = Font(bold=True)
    for c, heading in enumerate(columns, start=1):
        width = max([len(str(heading))] + [len(str(row[c - 1] or "")) for row in rows[:200]])
        sheet.column_dimensions[sheet.cell(row=1, column=c).column_letter].width = min(
            max(width + 2, 8), 60)
    sheet.freeze_panes = "A2"
    buffer = io.BytesIO()
    book.save(buffer)
    return dcc.send_bytes(buffer.getvalue(), name)


@callback(Output({"type": EXPORT_DOWNLOAD, "table": MATCH}, "data"),
          Input({"type": EXPORT_BUTTON, "table": MATCH, "format": ALL}, "n_clicks"),
          State({"type": EXPORT_ROWS, "table": MATCH}, "data"), prevent_initial_call=True)
def download_table(clicks, table):
    trigger = ctx.triggered_id
    if not isinstance(trigger, dict) or not table or not any(clicks or ()):
        return no_update
    if trigger.get("format") not in FORMATS:
        return no_update
    return table_file(table, trigger["format"])


def _array(values):
    """A trace's values as a list: Plotly writes numeric arrays as base64 typed arrays
    ({"dtype": "f8", "bdata": ...}) in a figure's dict."""
    if isinstance(values, dict) and "bdata" in values:
        array = np.frombuffer(base64.b64decode(values["bdata"]), dtype=np.dtype(values["dtype"]))
        return array.tolist()
    return values


def figure_rows(figure) -> tuple[list[str], list[list]]:
    """What a chart draws, as rows: each named trace's points (series, when, value)."""
    figure = figure if isinstance(figure, dict) else figure.to_dict()
    rows = []
    for trace in figure.get("data", []):
        name, xs, ys = trace.get("name"), _array(trace.get("x")), _array(trace.get("y"))
        if not name or xs is None or ys is None:
            continue
        for x, y in zip(list(xs), list(ys), strict=False):
            if y is None or (isinstance(y, float) and y != y):
                continue
            rows.append([name, str(x)[:10] if x is not None else "", y])
    return ["Series", "Date", "Value"], rows


def figure_downloads(figure, table_id: str, name: str):
    """The chart's values as CSV / Excel (the chart's own toolbar saves it as a picture)."""
    return panel_downloads([(None, figure)], table_id, name)


def panel_downloads(panels: list[tuple[str | None, object]], table_id: str, name: str):
    """Several charts' values in one file, each row with its panel's title (small multiples)."""
    titled = any(title for title, _ in panels)
    rows = [([title] if titled else []) + row
            for title, figure in panels for row in figure_rows(figure)[1]]
    if not rows:
        return html.Div()
    columns = (["Panel"] if titled else []) + figure_rows({})[0]
    return exportable(html.Div(), table_id, name, columns, rows, what="the chart's values")


def graph_config(name: str) -> dict:
    """The toolbar's picture download named after what the chart shows."""
    return {"displaylogo": False,
            "toImageButtonOptions": {"format": "png", "filename": file_stem(name),
                                     "scale": 2}}
