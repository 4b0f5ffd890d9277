insert into contests (
    election_id,
    contest_id,
    title,
    kind,
    seats,
    threshold,
    ballot_order,
    district_region_id,
    party_id
)
values %s
