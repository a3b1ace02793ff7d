install -d -m 0700 -o outpost -g outpost /var/lib/outpost
chown root:outpost /etc/outpost/outpost.toml 2>/dev/null || true
chmod 0640 /etc/outpost/outpost.toml 2>/dev/null || true
if [ -d /run/systemd/system ]; then
    systemctl daemon-reload >/dev/null 2>&1 || true
    if [ "$1" -eq 1 ]; then
        systemctl enable --now outpost.service >/dev/null 2>&1 || true
        echo "Outpost is installed and running. The one-time setup link is in: journalctl -u outpost | grep -i setup"
        echo "Devices trust the server from its onboarding page: http://<this machine's address>/"
    else
        systemctl try-restart outpost.service >/dev/null 2>&1 || true
    fi
fi
exit 0
