"""traitors: a multi-agent deception simulation engine."""

__version__ = "0.1.0"
