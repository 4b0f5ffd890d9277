select distinct on (component)
    component,
    checked_at,
    is_healthy,
    detail
from component_health
order by component, checked_at desc
