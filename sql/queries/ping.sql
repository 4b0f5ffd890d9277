-- A pooled connection is still served before it is lent out again.
select 1
