"""Platform-neutral: requests in as plain values, replies out as plain values. The layers
(docs/architecture.md): values.py, errors.py, clock.py; language/; engine/ and read/;
commands/."""
