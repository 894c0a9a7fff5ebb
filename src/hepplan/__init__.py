"""hepplan: safe, personal home exercise programs for buttock and leg pain."""

__version__ = "0.1.0"
