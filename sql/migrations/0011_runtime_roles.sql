-- Least privilege at run time. Only migrations use the owner of the tables (the role that
-- runs them); everything else connects with a role that cannot change the schema, cannot
-- disable a trigger (the certification lock) and cannot truncate, because none of them
-- owns a table or is a superuser:
--
-- tallyflow_app      Airflow's tasks, the tally, certification and the CLI: reads and
--                    writes rows of every table, nothing else.
-- tallyflow_casting  the casting API inside the public site: checks an election and a
--                    credential, keeps a ballot in the outbox, answers a receipt. Nothing
--                    of the roll but the credential hashes, nothing of any ballot.
-- tallyflow_site     (0006) the results site's read-only role.
--
-- Their passwords are set by the platform from the secrets directory, never here.
do $$
begin
    if not exists (select from pg_roles where rolname = 'tallyflow_app') then
        create role tallyflow_app nologin;
    end if;
    if not exists (select from pg_roles where rolname = 'tallyflow_casting') then
        create role tallyflow_casting nologin;
    end if;
end;
$$;

grant usage on schema public to tallyflow_app, tallyflow_casting;

grant select, insert, update, delete on all tables in schema public to tallyflow_app;
grant usage, select on all sequences in schema public to tallyflow_app;
do $$
begin
    -- The migrations' own record (made by the migration runner, so it may be missing
    -- when a file is run by itself).
    if to_regclass('public.schema_migrations') is not null then
        revoke insert, update, delete on schema_migrations from tallyflow_app;
    end if;
end;
$$;
-- Tables later migrations create get the same grants.
alter default privileges in schema public
    grant select, insert, update, delete on tables to tallyflow_app;
alter default privileges in schema public
    grant usage, select on sequences to tallyflow_app;

revoke all on all tables in schema public from tallyflow_casting;
grant select (election_id, status, opens_at, closes_at) on elections to tallyflow_casting;
grant select (election_id, credential_sha256) on voters to tallyflow_casting;
grant insert (event_id, election_id, receipt, payload_sha256, received_at, payload, topic)
    on submissions to tallyflow_casting;
grant select (event_id, election_id, receipt, payload_sha256, received_at, settled_at,
              publish_attempts)
    on submissions to tallyflow_casting;
grant update (published_partition, published_offset, published_at, publish_attempts)
    on submissions to tallyflow_casting;
-- A receipt's status: counted (to the minute) or rejected (why); not the voter.
grant select (receipt, election_id, checked_in_at) on checkins to tallyflow_casting;
grant select (receipt, election_id, reason, kafka_offset) on rejected_events
    to tallyflow_casting;
