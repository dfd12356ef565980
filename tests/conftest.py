import atexit
import os
import shutil
import sys
import tempfile

# Test runs only: XLA's CPU backend compiles with LLVM at -O0 instead of -O3. Nearly every program here is
# compiled once and run on a few tiny inputs, so compiling dominates the suite; -O0 compiles about a third
# faster. It only changes LLVM's code generation (XLA's own graph optimisations stay; no fast-math at either
# level), so the numbers are the same to rounding. Set a level in XLA_FLAGS yourself to override. This must run
# before JAX creates its CPU backend.
if "xla_backend_optimization_level" not in os.environ.get("XLA_FLAGS", ""):
    os.environ["XLA_FLAGS"] = (os.environ.get("XLA_FLAGS", "") + " --xla_backend_optimization_level=0").strip()

# The CLI turns JAX's persistent compilation cache on (dqnn._cache); tests must not write to the user's home.
# In-process CLI tests run without it; tests of the cache itself run subprocesses with DQNN_CACHE_DIR set to a
# tmp_path (and DQNN_NO_CACHE removed). DQNN_CACHE_DIR points at a throw-away folder as well, for anything that
# unsets DQNN_NO_CACHE.
os.environ["DQNN_NO_CACHE"] = "1"
os.environ["DQNN_CACHE_DIR"] = tempfile.mkdtemp(prefix="dqnn-test-cache-")

sys.path.insert(0, os.path.dirname(__file__))

from hypothesis import settings

atexit.register(shutil.rmtree, os.environ["DQNN_CACHE_DIR"], ignore_errors=True)

# Property-based tests run 60 examples each by default; HYPOTHESIS_PROFILE=thorough runs 300 (before a
# release, or after changing the simulator).
settings.register_profile("dqnn", deadline=None, print_blob=True, max_examples=60)
settings.register_profile("thorough", settings.get_profile("dqnn"), max_examples=300)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dqnn"))
