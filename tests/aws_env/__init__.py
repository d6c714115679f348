"""AWS environments: credentials, setup kit, doctor, provisioner (`mantle.cloud.aws`)."""
