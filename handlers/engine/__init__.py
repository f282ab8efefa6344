"""The command engine: the command table's types, what a handler gets (context, roles, access),
and dispatch of one request inside one transaction."""
