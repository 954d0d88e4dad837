#!/bin/bash
# Usage: join-from-ssm.sh REGION PARAMETER_NAME KEY
# Reads the agents' join token from the SecureString parameter deployctl made
# (it is never in user data) and adds it to k3s's config file as
# `KEY: "<token>"`, readable by root only. The instance profile's credentials
# can take a little while to reach a new instance: retried for 5 minutes.
set -euo pipefail

region=$1
name=$2
key=$3
config=/etc/rancher/k3s/config.yaml

umask 077
mkdir -p /etc/rancher/k3s
for _ in $(seq 1 60); do
	if token=$(aws ssm get-parameter --region "$region" --name "$name" \
		--with-decryption --query Parameter.Value --output text); then
		printf '%s: "%s"\n' "$key" "$token" >>"$config"
		exit 0
	fi
	sleep 5
done
echo "join-from-ssm.sh: could not read parameter $name" >&2
exit 1
