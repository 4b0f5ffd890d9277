import sys

from tallyflow.cli import main

sys.exit(main())
