"""Customers' AWS setups: tenant environments (`environments.py`, secrets sealed by
`crypto.py`); the setup kit (`setup_kit.py` assembling `policies.py`, `cors.py`, `userdata.py`,
`cloudformation.py`, names from `names.py`); the `doctor` checks; and the provisioner
(`provision.py`, `provision_iam.py`). Sessions, clients and error sorting come from the bottom
layer, `mantle.aws`."""
