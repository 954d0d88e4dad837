#!/bin/bash
# cloud-init user data for a k8s agent (Amazon Linux 2023). deployctl sets
# REGION, JOIN_PARAMETER_NAME and SERVER_IP and writes join-from-ssm.sh right
# after the first line; this part joins the server as a k3s agent, with the
# agent token (which joins agents, never servers) read from SSM.
set -euo pipefail

K3S_VERSION="v1.31.4+k3s1"

bash /opt/k8s/join-from-ssm.sh "$REGION" "$JOIN_PARAMETER_NAME" token

# The agent service keeps retrying until the server's API answers: the
# server instance is running when this one launches, k3s on it not yet.
curl -sfL https://get.k3s.io |
	INSTALL_K3S_VERSION="$K3S_VERSION" INSTALL_K3S_SKIP_SELINUX_RPM=true \
		sh -s - agent --server "https://$SERVER_IP:6443"
