select exists(
    select from ballot_group_releases
    where until > clock_timestamp()
)
