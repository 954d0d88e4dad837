#!/bin/bash
# cloud-init user data for fastapi-ec2 (Amazon Linux 2023). deployctl puts
# the app's files (/opt/app/app.py, /opt/app/index.html) right after the
# first line, byte for byte the template's; this part installs FastAPI and
# uvicorn in a virtualenv and runs the app under systemd on port 80.
set -euo pipefail

dnf install -y python3 python3-pip
python3 -m venv /opt/app/venv
/opt/app/venv/bin/pip install --no-cache-dir 'fastapi==0.115.*' 'uvicorn==0.30.*'

# DynamicUser: the app runs as a throwaway user that owns nothing; the
# capability lets it bind port 80 without root.
cat > /etc/systemd/system/hits.service <<'UNIT'
[Unit]
Description=hit counter (FastAPI under uvicorn)
Wants=network-online.target
After=network-online.target

[Service]
DynamicUser=yes
AmbientCapabilities=CAP_NET_BIND_SERVICE
CapabilityBoundingSet=CAP_NET_BIND_SERVICE
NoNewPrivileges=yes
WorkingDirectory=/opt/app
ExecStart=/opt/app/venv/bin/uvicorn app:app --host 0.0.0.0 --port 80 --no-access-log
Restart=always
RestartSec=2

[Install]
WantedBy=multi-user.target
UNIT

systemctl daemon-reload
systemctl enable --now hits.service
