"""Daily AI Insights: the core of the paper digest pipeline."""

__version__ = "0.1.0"
