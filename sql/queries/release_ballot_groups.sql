insert into ballot_group_releases (until, reason)
values (clock_timestamp() + make_interval(secs => %(seconds)s), %(reason)s)
