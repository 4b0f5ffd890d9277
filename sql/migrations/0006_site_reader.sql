-- The results site's own role: it reads the aggregates and what anyone may see of an
-- election, never the roll, credentials, check-ins, ballots or raw events. Its password is
-- set by the platform (`tallyflow up` / `init`) from the secrets directory, never here.
do $$
begin
    if not exists (select from pg_roles where rolname = 'tallyflow_site') then
        create role tallyflow_site nologin;
    end if;
end;
$$;

revoke all on all tables in schema public from tallyflow_site;
grant usage on schema public to tallyflow_site;

grant select (
    election_id, title, description, opens_at, closes_at, status, is_tally_embargoed,
    is_test, roll_fingerprint, roll_frozen_at
) on elections to tallyflow_site;

grant select on
    parties,
    regions,
    contests,
    contest_options,
    region_ancestry,
    region_roll_counts,
    option_totals,
    option_region_totals,
    contest_ballot_totals,
    turnout_by_region,
    turnout_by_demographic,
    ballots_per_minute,
    rejected_totals,
    aggregate_cells,
    result_quality,
    pipeline_health,
    validation_runs,
    certificates,
    component_health
to tallyflow_site;
