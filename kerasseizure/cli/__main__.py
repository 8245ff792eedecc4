"""`python -m kerasseizure.cli`: the `kerasseizure` command."""

import sys

from kerasseizure.cli import main

sys.exit(main())
