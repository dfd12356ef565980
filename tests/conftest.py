import os
import sys

sys.path.insert(0, os.path.dirname(__file__))

from hypothesis import settings

settings.register_profile("dqnn", deadline=None, print_blob=True)
settings.load_profile("dqnn")
