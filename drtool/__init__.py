"""drtool: disaster-recovery drills against AWS that measure achieved RTO and RPO.

Library first: `drtool.api` holds the functions the CLI calls. Importing this package is
cheap on purpose (no boto3), so `drtool --help` stays fast.
"""

__version__ = "0.1.0"
