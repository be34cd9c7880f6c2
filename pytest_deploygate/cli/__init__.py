"""The ``deploygate`` command line."""
