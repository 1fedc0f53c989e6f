"""``python -m lookaround``: the same command line as the ``lookaround`` script."""

import sys

from lookaround.cli import main

sys.exit(main())
