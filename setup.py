"""Build configuration beyond pyproject.toml: the data the package ships.

The extraction templates, the worked example and its search exports stay at the top of
the repository (extraction_templates/, examples/, references/), where people edit and
read them. The build maps each folder into the package as review.data.<folder>, so an
installed copy (wheel or editable) finds them through importlib.resources
(review/resources.py) and never needs the checkout. Each folder has an __init__.py
only so that it is a regular package: importlib.resources cannot read a namespace
package in an editable install on Python 3.11.
"""

from setuptools import find_namespace_packages, setup

BUNDLED = {f"review.data.{folder}": folder for folder in ("extraction_templates", "examples", "references")}
DATA_FILES = ["*.yaml", "*.md", "*.json", "*.csv", "*.ris", "*.txt"]

setup(
    packages=[*find_namespace_packages(include=["review", "review.*"], exclude=["*.__pycache__"]), *BUNDLED],
    package_dir=BUNDLED,
    package_data={**{name: [*DATA_FILES, *(f"*/{pattern}" for pattern in DATA_FILES),
                            *(f"*/*/{pattern}" for pattern in DATA_FILES)]  # examples/mason2014/full_texts/
                     for name in BUNDLED},
                  # The widgets' browser code, and the starter exports of notebook 00.
                  "review.widgets": ["static/*"], "review.data.starter_exports": ["*"]},
)
