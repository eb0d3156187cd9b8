{#- Every row read from a submission is accounted for: structure (titles, header, HXL row),
    rows of sheets the mapping does not read, empty rows (blank, or a template row holding only
    zeros, dashes or a period), or a data row - and every data row is accepted or quarantined.
    Nothing is lost. -#}
{% test rows_conserved(model) %}
select submission_id, rows_read, structure_rows, other_sheet_rows, empty_rows, data_rows,
    rows_accepted, rows_quarantined
from {{ model }}
where data_rows <> rows_accepted + rows_quarantined
   or records <> values_accepted + values_quarantined
   or (landing_status = 'landed' and rows_read <> structure_rows + other_sheet_rows + empty_rows + data_rows)
{% endtest %}
