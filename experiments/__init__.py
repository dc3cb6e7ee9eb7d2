"""The entry scripts (``python -m experiments.NAME``).

Python imports this package before the script itself, so the process-wide settings every
entry point needs are made here, once, before any module imports JAX
(``orient_jax.core.launch.configure_process``).
"""

from orient_jax.core import launch

launch.configure_process()
