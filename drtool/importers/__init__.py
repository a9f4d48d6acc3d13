"""Bring existing experiments: AWS FIS experiment templates and Chaos Toolkit experiments
become a drtool scenario plus a drill skeleton (`drtool import fis|chaostoolkit FILE`).

- `fis`: an FIS template (targets / actions / stopConditions / roleArn) -> native actions
  where drtool has them, a `fis.experiment` step for the rest;
- `chaostoolkit`: an experiment (steady-state-hypothesis / method / rollbacks) -> http
  probes as `http.ok` checks, chaosaws actions drtool has natively;
- `output`: the result as data, rendered to YAML with every unmapped item as a comment,
  written and then checked with the same validation as `drtool validate`.

Nothing here calls AWS: an import reads one file and writes two.
"""

from drtool.importers.output import ImportResult, read_source, write_result

__all__ = ["ImportResult", "read_source", "write_result"]
