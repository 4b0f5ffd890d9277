-- Ballots are counted in groups (tallyflow/votes/secrecy.py): a tally transaction adds
-- either none or at least k ballots of a region, so the voters it checks in there are
-- never fewer than k. A ballot keeps no time either, so no (region, time window) group can
-- be matched with the check-ins of that window: the time of voting lives on check-ins only.
alter table ballots drop column if exists cast_window;

-- Requests to count the held-back ballots now, in smaller groups if need be: `tallyflow
-- down` makes one when the broker keeps its log in memory, where held ballots would be
-- lost with it. Each is kept, so a weakened group can always be explained.
create table if not exists ballot_group_releases (
    released_at timestamptz primary key default clock_timestamp(),
    until timestamptz not null,
    reason text not null
);
