"""gosim: a simulator of the Gosuslugi portal's identity, citizen and payments APIs for banks."""

__version__ = "0.1.0"

import warnings

# connexion imports starlette's test client at import time, and starlette warns about its httpx backend there:
# noise in every `gosim serve` log that says nothing about gosim.
warnings.filterwarnings("ignore", message=r"Using `httpx` with `starlette\.testclient` is deprecated")
