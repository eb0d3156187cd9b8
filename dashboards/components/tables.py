"""One table style for the whole dashboard: the page's own font, human column names, text that
wraps instead of widening the page, and 'None.' instead of an empty header."""

from __future__ import annotations

import pandas as pd
from dash import dash_table, html

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
               sortable: bool = False, links: tuple[str, ...] = ()
               ) -> html.Div | dash_table.DataTable:
    """``frame`` shown with ``columns`` (field -> human name, in order). Values should already
    be formatted for people (see components.format); ``numeric`` columns are right-aligned,
    ``wide`` ones (reasons, descriptions) get room to wrap; ``links`` columns hold Markdown
    links the caller built (``[text](url)``; never partner text: Markdown would render it)."""
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
    return dash_table.DataTable(
        data=shown.to_dict("records"),
        columns=[{"name": c, "id": c, **({"presentation": "markdown"} if c in
                                         {columns[k] for k in links} else {})}
                 for c in shown.columns],
        style_table=STYLE_TABLE, style_cell=STYLE_CELL, style_header=STYLE_HEADER,
        style_cell_conditional=conditional, **options)
