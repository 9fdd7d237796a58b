"""The command line: a thin layer over the library. ``main.py`` wires the command modules lazily."""
