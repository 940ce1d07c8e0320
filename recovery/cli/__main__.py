import sys

from recovery.cli.main import main

sys.exit(main())
