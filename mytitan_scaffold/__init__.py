"""mytitan scaffold: generate and rehearse torchtitan model projects."""

__version__ = "0.45.0"
