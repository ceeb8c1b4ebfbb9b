"""datacraft: build fine-tuning datasets for LLMs."""

__version__ = "0.1.0"
