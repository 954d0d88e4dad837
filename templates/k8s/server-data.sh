#!/bin/bash
# cloud-init user data for the k8s server (Amazon Linux 2023). deployctl sets
# REGION and JOIN_PARAMETER_NAME and puts the app's files (/opt/app/) and
# the manifests and join-from-ssm.sh (/opt/k8s/) right after the first line,
# byte for byte the template's; this part installs k3s as a server that
# takes agents with the token from SSM, then applies the app: its files as
# a ConfigMap, then the manifests.
set -euo pipefail

K3S_VERSION="v1.31.4+k3s1"

# --agent-token, through k3s's config file: the agents' token joins agents
# only; the server token stays k3s's own, on this instance.
bash /opt/k8s/join-from-ssm.sh "$REGION" "$JOIN_PARAMETER_NAME" agent-token

# AL2023 runs SELinux permissive: k3s needs no policy package there.
curl -sfL https://get.k3s.io |
	INSTALL_K3S_VERSION="$K3S_VERSION" INSTALL_K3S_SKIP_SELINUX_RPM=true \
		sh -s - server --write-kubeconfig-mode 0600

# The API server answers within a minute or two of the install.
for _ in $(seq 1 120); do
	if k3s kubectl get --raw /readyz >/dev/null 2>&1; then
		break
	fi
	sleep 5
done

k3s kubectl create configmap hits-app --from-file=/opt/app/app.py \
	--from-file=/opt/app/index.html --dry-run=client -o yaml |
	k3s kubectl apply -f -
k3s kubectl apply -f /opt/k8s/hits.yaml
