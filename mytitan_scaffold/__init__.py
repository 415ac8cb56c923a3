"""mytitan scaffold: generate and rehearse torchtitan model projects."""

__version__ = "0.39.0"
