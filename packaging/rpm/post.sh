# /etc/outpost, the config and /var/lib/outpost come with their owners and modes from the
# package's file list (the outpost group and user exist by then: %pre made them).
if [ -d /run/systemd/system ]; then
    systemctl daemon-reload >/dev/null 2>&1 || true
    if [ "$1" -eq 1 ]; then
        systemctl enable --now outpost.service >/dev/null 2>&1 || true
        if systemctl is-active --quiet outpost.service; then
            echo "Outpost is installed and running. The one-time setup link is in: journalctl -u outpost | grep -i setup"
            echo "Devices trust the server from its onboarding page: http://<this machine's address>/"
        else
            echo "Outpost is installed but the service failed to start. Why: journalctl -u outpost -p err" >&2
            echo "Fix /etc/outpost/outpost.toml (outpost doctor --config /etc/outpost/outpost.toml), then: systemctl restart outpost" >&2
        fi
    else
        systemctl try-restart outpost.service >/dev/null 2>&1 || true
        if systemctl is-failed --quiet outpost.service; then
            echo "Outpost was upgraded but the service failed to restart. Why: journalctl -u outpost -p err" >&2
        fi
    fi
fi
exit 0
