import sys

from tallyctl.cli import main

sys.exit(main())
