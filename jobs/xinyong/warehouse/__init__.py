"""The PostgreSQL warehouse: connections, migrations and the tables derived from feed specs."""
