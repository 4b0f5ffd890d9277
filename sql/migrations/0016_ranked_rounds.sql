-- Ranked contests, live: the tally keeps each contest's rankings summed over precincts
-- (a table now, where 0015 had a view, so a batch does not re-sum every precinct) and,
-- in the same transaction, the rounds of the runoff over them. The site reads the rounds
-- only: its poll never tabulates, and every reader sees the rounds of the counts it sees.
do $$
begin
    -- Only the view of 0015 is dropped: run again, this finds the table and keeps it.
    if exists (select from pg_views where schemaname = 'public'
               and viewname = 'ranking_contest_totals') then
        drop view ranking_contest_totals;
    end if;
end;
$$;

create table if not exists ranking_contest_totals (
    election_id text not null references elections,
    contest_id text not null,
    ranking text not null,
    ballots bigint not null default 0,
    primary key (election_id, contest_id, ranking)
);

insert into ranking_contest_totals (election_id, contest_id, ranking, ballots)
select election_id, contest_id, ranking, sum(ballots)
from ranking_totals
group by election_id, contest_id, ranking
on conflict do nothing;

-- The provisional result: every round (tallyflow.tabulation.runoff.live_rounds, as JSON)
-- over ``ballots`` ballots in ``rankings`` distinct rankings.
create table if not exists ranked_rounds (
    election_id text not null references elections,
    contest_id text not null,
    ballots bigint not null,
    rankings integer not null,
    rounds text not null,
    tabulated_at timestamptz not null default now(),
    primary key (election_id, contest_id)
);

do $$
declare
    guarded text;
begin
    foreach guarded in array array['ranking_contest_totals', 'ranked_rounds'] loop
        execute format('drop trigger if exists %I on %I', guarded || '_insert_lock', guarded);
        execute format('drop trigger if exists %I on %I', guarded || '_update_lock', guarded);
        execute format('drop trigger if exists %I on %I', guarded || '_delete_lock', guarded);
        execute format(
            'create trigger %I after insert on %I referencing new table as new_rows '
            'for each statement execute function refuse_certified_rows()',
            guarded || '_insert_lock', guarded);
        execute format(
            'create trigger %I after update on %I '
            'referencing old table as old_rows new table as new_rows '
            'for each statement execute function refuse_certified_rows()',
            guarded || '_update_lock', guarded);
        execute format(
            'create trigger %I after delete on %I referencing old table as old_rows '
            'for each statement execute function refuse_certified_rows()',
            guarded || '_delete_lock', guarded);
        execute format('drop trigger if exists %I on %I', guarded || '_truncate_lock', guarded);
        execute format(
            'create trigger %I before truncate on %I '
            'for each statement execute function refuse_truncating_certified()',
            guarded || '_truncate_lock', guarded);
    end loop;
end;
$$;

grant select on ranked_rounds to tallyflow_site;
