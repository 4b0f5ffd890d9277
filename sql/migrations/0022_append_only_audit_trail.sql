-- The election audit trail is append-only and chained: each entry carries the SHA-256 of
-- the entry before it (per election) and its own, computed here from what it records, so
-- an entry edited or removed shows (`tallyflow audit ELECTION` checks the chain). No
-- runtime role may update, delete or truncate it, and a trigger refuses it to every role
-- but the tables' owner, as the certification lock does for results.

alter table election_audit_log add column if not exists previous_sha256 text;
alter table election_audit_log add column if not exists entry_sha256 text;

-- What an entry's digest covers: the digest before it and every field it records.
create or replace function audit_entry_sha256(
    previous_sha256 text, audit_id bigint, election_id text, action text, actor text,
    outcome text, detail jsonb, recorded_at timestamptz
) returns text
language sql immutable as $$
    select encode(sha256(convert_to(concat_ws(E'\n',
        coalesce(previous_sha256, ''), audit_id::text, election_id, action, actor, outcome,
        detail::text, to_char(recorded_at at time zone 'UTC',
                              'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')), 'UTF8')), 'hex')
$$;

-- Entries recorded before this migration are chained in the order they were recorded.
do $$
declare
    entry record;
    previous text;
    current_election text := null;
begin
    for entry in
        select * from election_audit_log
        where entry_sha256 is null
        order by election_id, audit_id
    loop
        if current_election is distinct from entry.election_id then
            current_election := entry.election_id;
            select e.entry_sha256 into previous from election_audit_log as e
            where e.election_id = entry.election_id and e.entry_sha256 is not null
            order by e.audit_id desc limit 1;
        end if;
        update election_audit_log
        set previous_sha256 = previous,
            entry_sha256 = audit_entry_sha256(previous, entry.audit_id, entry.election_id,
                                              entry.action, entry.actor, entry.outcome,
                                              entry.detail, entry.recorded_at)
        where audit_id = entry.audit_id;
        previous := audit_entry_sha256(previous, entry.audit_id, entry.election_id,
                                       entry.action, entry.actor, entry.outcome,
                                       entry.detail, entry.recorded_at);
    end loop;
end;
$$;

-- A new entry's digests are set here, whatever the writer sent. One entry at a time per
-- election (a transaction lock), so two writers cannot both chain to the same entry.
create or replace function chain_audit_entry() returns trigger
language plpgsql as $$
begin
    perform pg_advisory_xact_lock(hashtextextended('tallyflow-audit:' || new.election_id, 0));
    select entry_sha256 into new.previous_sha256
    from election_audit_log
    where election_id = new.election_id
    order by audit_id desc
    limit 1;
    new.entry_sha256 := audit_entry_sha256(new.previous_sha256, new.audit_id,
                                           new.election_id, new.action, new.actor,
                                           new.outcome, new.detail, new.recorded_at);
    return new;
end;
$$;

drop trigger if exists election_audit_log_chain on election_audit_log;
create trigger election_audit_log_chain before insert on election_audit_log
for each row execute function chain_audit_entry();

create or replace function refuse_rewriting_the_audit_trail() returns trigger
language plpgsql as $$
begin
    if current_user <> (select tableowner from pg_tables
                        where schemaname = 'public' and tablename = 'election_audit_log') then
        raise exception 'the audit trail is append-only: % refused', lower(tg_op)
            using errcode = 'P0001', hint = 'record a new entry instead';
    end if;
    return case when tg_op = 'DELETE' then old else new end;
end;
$$;

drop trigger if exists election_audit_log_append_only on election_audit_log;
create trigger election_audit_log_append_only before update or delete on election_audit_log
for each row execute function refuse_rewriting_the_audit_trail();
drop trigger if exists election_audit_log_no_truncate on election_audit_log;
create trigger election_audit_log_no_truncate before truncate on election_audit_log
for each statement execute function refuse_rewriting_the_audit_trail();

revoke update, delete, truncate on election_audit_log from tallyflow_app;
