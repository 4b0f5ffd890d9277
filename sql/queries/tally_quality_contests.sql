-- Per contest of one election: the figures its votes and ballots must agree with.
-- Every counted ballot reaches every contest; a contest counted (not blank, not
-- overvoted) gives at least one vote and at most as many as it allows selections.
with option_counts as (
    select
        contest_id,
        count(*) as options
    from contest_options
    where election_id = %(election_id)s
    group by contest_id
),

votes as (
    select
        contest_id,
        sum(votes) as votes
    from option_totals
    where election_id = %(election_id)s
    group by contest_id
),

region_votes as (
    select
        contest_id,
        sum(votes) as votes
    from option_region_totals
    where election_id = %(election_id)s
    group by contest_id
),

ledger as (
    select
        (
            select count(*) from checkins
            where election_id = %(election_id)s
        ) as checkins,
        (
            select count(*) from ballots
            where election_id = %(election_id)s
        ) as stored_ballots
)

select
    contests.contest_id,
    coalesce(votes.votes, 0) as votes,
    coalesce(region_votes.votes, 0) as region_votes,
    coalesce(totals.ballots, 0) as ballots,
    coalesce(totals.ballots - totals.blank_ballots - totals.overvoted_ballots, 0)
        as counted_ballots,
    coalesce(totals.ballots - totals.blank_ballots - totals.overvoted_ballots, 0)
    * case
        when contests.kind = 'plurality' then contests.seats
        when contests.kind = 'yes_no' then 1
        else option_counts.options
    end as most_votes,
    ledger.checkins,
    ledger.stored_ballots
from contests
cross join ledger
left join option_counts on option_counts.contest_id = contests.contest_id
left join votes on votes.contest_id = contests.contest_id
left join region_votes on region_votes.contest_id = contests.contest_id
left join contest_ballot_totals as totals
    on totals.election_id = contests.election_id and totals.contest_id = contests.contest_id
where contests.election_id = %(election_id)s
order by contests.contest_id
