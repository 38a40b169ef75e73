"""gosim: a simulator of the Gosuslugi portal's identity, citizen and payments APIs for banks."""

__version__ = "0.1.0"
