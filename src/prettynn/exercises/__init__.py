"""Exercise declarations, one module per chapter topic; importing this registers them all.

Every module of this package is imported, in name order (``_`` modules are helpers), so a
new topic's module needs no line here.
"""

import importlib
import pkgutil

for _module in sorted(info.name for info in pkgutil.iter_modules(__path__) if not info.name.startswith("_")):
    importlib.import_module(f"{__name__}.{_module}")
