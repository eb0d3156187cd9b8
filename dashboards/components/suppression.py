"""Small-cell suppression: a cell built from fewer than k contributors is hidden (primary), and
where the total of a set of cells is shown, one more cell is hidden with a lone hidden one
(secondary), so no hidden value can be worked out as the total minus the others."""

from __future__ import annotations

import pandas as pd

PRIMARY = "fewer contributors than the minimum"
SECONDARY = "hidden so a small cell cannot be worked out from the total"


def suppress(cells: pd.DataFrame, *, groups: list[str], contributors: str = "contributors",
             value: str = "value", k: int, exempt: pd.Series | None = None) -> pd.DataFrame:
    """``cells`` with a ``suppressed`` column (None, PRIMARY or SECONDARY). Cells are the parts
    of one published total per ``groups`` (a period's categories, a period's places, ...).
    ``exempt`` marks cells the viewer may see whatever their size (its own contribution); they
    are never hidden and never chosen to protect another cell, but they do count as known when
    checking whether a hidden cell could be derived."""
    frame = cells.copy()
    frame["suppressed"] = None
    if k <= 1 or frame.empty:
        return frame
    exempt = (pd.Series(False, index=frame.index) if exempt is None
              else exempt.reindex(frame.index, fill_value=False))
    primary = (frame[contributors].fillna(0) < k) & ~exempt
    frame.loc[primary, "suppressed"] = PRIMARY
    for _, group in frame.groupby(groups, dropna=False, sort=False):
        hidden = group["suppressed"].notna()
        if hidden.sum() != 1 or len(group) < 2:
            continue  # none hidden, two or more hidden (they only give away their sum), alone
        candidates = group[~hidden & ~exempt.loc[group.index]]
        if candidates.empty:
            continue
        # The smallest other cell hides the least information.
        chosen = candidates[value].abs().fillna(0).idxmin()
        frame.loc[chosen, "suppressed"] = SECONDARY
    return frame


def threshold_for(user, initiative: dict) -> int:
    """The smallest number of contributors a value this user sees must be built from (1: no
    suppression): the initiative's small_cells setting, for the roles it names."""
    roles = [role for role in str(initiative.get("small_cells_roles") or "").split(",") if role]
    k = int(initiative.get("small_cells_min_contributors") or 1)
    return k if str(user.role) in roles else 1
