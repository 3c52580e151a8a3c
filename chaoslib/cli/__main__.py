"""`python -m chaoslib.cli`: the same as `chaosctl`."""
import sys

from chaoslib.cli.main import main

sys.exit(main())
