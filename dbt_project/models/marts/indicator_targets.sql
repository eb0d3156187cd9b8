-- Baseline, milestones and end target per indicator and place, in period order.
select * from {{ ref('stg_registry__target_points') }}
