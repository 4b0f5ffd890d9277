-- Per contest of one election: the figures its votes and ballots must agree with.
-- Every counted ballot whose style carries a contest reaches it (its district holds the
-- ballot's precinct and its primary is the ballot's party); a contest counted (not
-- blank, not overvoted) gives at least one vote and at most as many as it allows
-- selections.
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

styles as (
    select
        region_id,
        party_id,
        count(*) as stored
    from ballots
    where election_id = %(election_id)s
    group by region_id, party_id
),

electorates as (
    select
        contests.contest_id,
        coalesce(sum(styles.stored), 0) as electorate_ballots
    from contests
    left join styles
        on
            (
                contests.district_region_id is null
                or styles.region_id in (
                    select region_ancestry.region_id
                    from region_ancestry
                    where
                        region_ancestry.election_id = contests.election_id
                        and region_ancestry.ancestor_id = contests.district_region_id
                )
            )
            and (contests.party_id is null or contests.party_id = styles.party_id)
    where contests.election_id = %(election_id)s
    group by contests.contest_id
),

ledger as (
    select
        (
            select count(*) from checkins
            where election_id = %(election_id)s
        ) as checkins,
        (
            select coalesce(sum(stored), 0) from styles
        ) as stored_ballots
)

select
    contests.contest_id,
    coalesce(votes.votes, 0) as votes,
    coalesce(region_votes.votes, 0) as region_votes,
    coalesce(totals.ballots, 0) as ballots,
    electorates.electorate_ballots,
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
left join electorates on electorates.contest_id = contests.contest_id
left join option_counts on option_counts.contest_id = contests.contest_id
left join votes on votes.contest_id = contests.contest_id
left join region_votes on region_votes.contest_id = contests.contest_id
left join contest_ballot_totals as totals
    on totals.election_id = contests.election_id and totals.contest_id = contests.contest_id
where contests.election_id = %(election_id)s
order by contests.contest_id
