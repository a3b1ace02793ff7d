# Runs before any file is laid, so the package's %attr(…,outpost) owners resolve.
getent group outpost >/dev/null || groupadd --system outpost
getent passwd outpost >/dev/null || useradd --system --gid outpost --home-dir /var/lib/outpost --no-create-home --shell /sbin/nologin --comment "Outpost messaging appliance" outpost
exit 0
