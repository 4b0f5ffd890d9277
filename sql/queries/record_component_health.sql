insert into component_health (component, is_healthy, detail)
values (%(component)s, %(is_healthy)s, %(detail)s)
