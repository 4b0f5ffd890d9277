-- Check-ins and ballots now, beside the ballots the recount counted: equal unless a ballot
-- arrived after the recount.
select
    (
        select count(*) from checkins
        where election_id = %(election_id)s
    ) as checkins,
    (
        select count(*) from ballots
        where election_id = %(election_id)s
    ) as ballots,
    (
        select ballots from recounts
        where election_id = %(election_id)s
    ) as recounted
