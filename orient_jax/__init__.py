"""orient-jax: render, see, act, export, browse. A pure-JAX research codebase.

Importing the library changes nothing about the process: the settings a whole process
needs (XLA's CPU flags, quiet start-up) are made by its entry point, the ``experiments``
package or the tests' conftest, through ``orient_jax.core.launch.configure_process``.
"""
