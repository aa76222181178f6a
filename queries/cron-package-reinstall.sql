-- id: cron-package-reinstall
-- title: Cron jobs that install packages or run maintainer scripts
-- description: crontab lines whose command installs or re-installs a package
--   (rpm -i/-U/-F in any option cluster, --install, --upgrade, --freshen,
--   --reinstall, --force; dpkg -i, --install, --unpack, --configure,
--   dpkg-reconfigure; yum, dnf, microdnf, tdnf install, reinstall,
--   localinstall, localupdate; zypper install/in; apt, apt-get, aptitude
--   install, reinstall; any of those given a .rpm or .deb file) or runs a
--   dpkg maintainer script directly (/var/lib/dpkg/info/*.preinst, postinst,
--   prerm, postrm, config). A package's scripts run as root at every
--   install: PANIX's --malicious-package re-installs its package from root's
--   crontab every minute (rpm -i --force /var/lib/rpm/panix.rpm) or runs its
--   postinst (/var/lib/dpkg/info/panix.postinst configure). The command is
--   split into words after quotes and backslashes are removed and shell
--   separators (; & | ( ) ` { } and cron's %) end a command, so spacing,
--   quoting, full paths, sudo/nohup/sh -c wrappers and pipelines do not hide
--   it; an option counts only in the command of the program it belongs to
--   (rpm -qa | grep -i x is no install). Plain SQL over osquery's own
--   crontab columns, so osqueryd runs it without the extension. installs
--   lists what matched.
-- attack: T1053.003, T1546.016
-- platform: linux
-- interval: 3600
-- mode: differential
-- kind: detection
-- source: pkgpersist
-- false_positives: administrators who keep a package installed from cron
--   (yum -y install foo, apt-get -y install --reinstall foo) or install a
--   vendor agent's downloaded .rpm/.deb on a schedule; configuration
--   management run from cron that names these commands in its arguments;
--   updates alone (yum -y update, dnf upgrade, apt-get upgrade,
--   unattended-upgrade) are not matched unless given a package file.
-- severity: medium
-- next: read the cron entry in path and the package it reinstalls; ask who scheduled it
WITH RECURSIVE
programs(name, family) AS (VALUES
  ('rpm', 'rpm'), ('dpkg', 'dpkg'), ('dpkg-reconfigure', 'reconfigure'),
  ('yum', 'dnf'), ('dnf', 'dnf'), ('dnf-3', 'dnf'), ('dnf4', 'dnf'), ('dnf5', 'dnf'),
  ('microdnf', 'dnf'), ('tdnf', 'dnf'), ('zypper', 'zypper'),
  ('apt', 'apt'), ('apt-get', 'apt'), ('aptitude', 'apt')),
words(event, minute, hour, day_of_month, month, day_of_week, command, path, kind, prog, hit, w, rest) AS (
  SELECT event, minute, hour, day_of_month, month, day_of_week, command, path, '', '', '', '',
    ' ' || replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(
      command, '"', ''), '''', ''), '\', ''), char(9), ' '), char(13), ' '),
      ';', ' ; '), '&', ' ; '), '|', ' ; '), '(', ' ; '), ')', ' ; '), '`', ' ; '), '{', ' ; '), '}', ' ; '), '%', ' ; ')
      || ' ; '
  FROM crontab
  UNION ALL
  SELECT event, minute, hour, day_of_month, month, day_of_week, command, path,
    CASE WHEN w = ';' THEN '' ELSE coalesce(p.family, kind) END,
    CASE WHEN w = ';' THEN '' WHEN p.family IS NOT NULL THEN w ELSE prog END,
    CASE
      WHEN w GLOB '*/var/lib/dpkg/info/?*.preinst' OR w GLOB '*/var/lib/dpkg/info/?*.postinst'
        OR w GLOB '*/var/lib/dpkg/info/?*.prerm' OR w GLOB '*/var/lib/dpkg/info/?*.postrm'
        OR w GLOB '*/var/lib/dpkg/info/?*.config' THEN 'maintainer script ' || w
      WHEN p.family = 'reconfigure' THEN w
      WHEN kind = 'rpm' AND (w IN ('--install', '--upgrade', '--freshen', '--reinstall', '--force')
        OR (w GLOB '-[a-zA-Z]*' AND w GLOB '*[iUF]*' AND w NOT GLOB '*[qVeK]*')) THEN prog || ' ' || w
      WHEN kind = 'dpkg' AND (w IN ('--install', '--unpack', '--configure')
        OR (w GLOB '-[a-zA-Z]*' AND w GLOB '*i*')) THEN prog || ' ' || w
      WHEN kind = 'dnf' AND (w IN ('install', 'reinstall', 'localinstall', 'localupdate', 'in', 'rei')
        OR w GLOB '?*.rpm') THEN prog || ' ' || w
      WHEN kind = 'zypper' AND (w IN ('install', 'in') OR w GLOB '?*.rpm') THEN prog || ' ' || w
      WHEN kind = 'apt' AND (w IN ('install', 'reinstall', '--reinstall') OR w GLOB '?*.deb') THEN prog || ' ' || w
      ELSE ''
    END,
    substr(rest, 1, instr(rest, ' ') - 1),
    substr(rest, instr(rest, ' ') + 1)
  FROM words
  LEFT JOIN programs p ON p.name = substr(w, length(rtrim(w, replace(w, '/', ''))) + 1)
  WHERE rest != ''
)
SELECT event, minute, hour, day_of_month, month, day_of_week, command, path,
       group_concat(hit, '; ') AS installs
FROM (SELECT DISTINCT event, minute, hour, day_of_month, month, day_of_week, command, path, hit
      FROM words WHERE hit != '')
GROUP BY event, minute, hour, day_of_month, month, day_of_week, command, path
