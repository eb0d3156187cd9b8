{#- Every data row read from a submission is accepted or quarantined: nothing is lost. -#}
{% test rows_conserved(model) %}
select submission_id, data_rows, rows_accepted, rows_quarantined
from {{ model }}
where data_rows <> rows_accepted + rows_quarantined
   or records <> values_accepted + values_quarantined
{% endtest %}
