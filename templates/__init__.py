"""The templates shipped with squad, installed as the package ``squad.templates`` (see pyproject.toml).

One source: this folder is what squad reads, from a clone and from a wheel alike. A repository
overrides any of them with a file of the same name in ``.squad/templates/``.
"""
