"""``python -m lossctl``: the same entry point as the ``lossctl`` console script."""
from lossctl.cli import main

if __name__ == "__main__":
    main()
