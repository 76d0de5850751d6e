"""Data, not code: this file lets the build ship the folder inside the package as review.data.examples
(setup.py) and lets importlib.resources find it in editable installs too (review/resources.py)."""
