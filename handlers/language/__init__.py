"""How people write and read: command-line words and options, numbers and amounts, dates and a
campaign's days, report lines, translations and formats. Pure: no database, no platform."""
