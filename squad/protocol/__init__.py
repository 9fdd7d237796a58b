"""The file formats of the ``.squad/`` tree: readers and writers, no CLI code."""
