-- id: package-scripts-suspicious-calls
-- title: Package scripts that reach the network or start detached shells
-- description: Maintainer scripts (dpkg's preinst, postinst, prerm, postrm,
--   config) and rpm scriptlets of installed packages, and orphaned script
--   files, whose calls talk to the network (curl, wget, nc, socat, /dev/tcp),
--   run network data as code, detach from the package manager (nohup,
--   setsid, disown, screen), decode a payload (base64 -d), or write into the
--   places package managers, cron or systemd run code from. A package
--   installed to persist does its work here: the script runs as root at
--   install and again at every upgrade or reinstall, and cron can run it
--   directly (PANIX --malicious-package).
-- attack: T1546.016, T1059.004
-- platform: linux
-- interval: 3600
-- mode: differential
-- kind: detection
-- source: pkgpersist
-- false_positives: vendor agents (monitoring, EDR, VPN clients) installed from a
--   downloaded .deb or .rpm whose postinst registers with a server or starts a
--   daemon with setsid; packages that fetch data at install (firmware,
--   fonts, plugin installers use curl or wget); scripts that copy their own
--   cron or systemd files into place with cp or install.
-- severity: medium
-- next: read the package's maintainer script and check where the package came from
SELECT manager, package, version, script, status, interpreter, path, sha256, calls
FROM package_scripts
WHERE calls LIKE '%[net]%' OR calls LIKE '%[fetch]%' OR calls LIKE '%[detach]%'
   OR calls LIKE '%[decode]%' OR calls LIKE '%[write]%'
