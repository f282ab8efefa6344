"""The commands, one module per topic, and `table`: the one command table that drives dispatch,
/help and every platform's registration."""
