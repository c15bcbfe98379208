"""claimrisk's Evidently job: drift and quality reports over the payload log.

``python -m monitoring report`` reads a training run's reference rows and a
window of the payload log from the bucket, runs Evidently's reports, writes
an HTML report and a JSON summary back to the bucket, and can add the runs
as snapshots to an Evidently workspace. ``dashboard`` sets up that
workspace's dashboard and ``ui`` serves it. contract.py is the one place
that knows the Go side's data contract.

Importing the package does nothing else: Evidently is imported only by the
commands that need it, since that takes seconds.
"""
