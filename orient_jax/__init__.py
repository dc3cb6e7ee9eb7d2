"""orient-jax: render, see, act, export, browse. A pure-JAX research codebase."""

import os as _os
import sys as _sys

from orient_jax import _quiet

# XLA's multi-threaded Eigen path can deadlock large MJX batches on CPU. The flag only
# touches CPU kernels, so it is safe everywhere; it must be set before jax starts.
if "jax" not in _sys.modules and "xla_cpu_multi_thread_eigen" not in _os.environ.get("XLA_FLAGS", ""):
    _os.environ["XLA_FLAGS"] = (_os.environ.get("XLA_FLAGS", "") + " --xla_cpu_multi_thread_eigen=false").strip()

_quiet.install()
