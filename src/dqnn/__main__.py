"""``python -m dqnn``: the ``dqnn`` command."""

from dqnn.cli import main

if __name__ == "__main__":
    main()
