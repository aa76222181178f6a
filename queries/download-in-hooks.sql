-- id: download-in-hooks
-- title: Hook commands that download or open a network shell
-- description: Commands APT, dpkg, DNF, YUM or pacman hooks run (a pacman
--   hook's Exec words joined by spaces) that fetch
--   code (curl, wget) or talk to the network from the shell (/dev/tcp, nc), or
--   decode a payload, and rpm macros whose shell or Lua code does (manager
--   rpm, hook the macro's name without %: it runs whenever rpm expands the
--   macro);
--   and every hook in which hook_targets finds a program that runs network
--   data as code (a download piped into a shell, a shell reading /dev/tcp, a
--   -c string or script from a command substitution that downloads), however
--   the command line is spelled; and every DNF or YUM plugin module the
--   package manager imports, not as its package shipped it (unowned or
--   modified), whose code opens a socket, fetches a URL or runs such a
--   command (its calls). Packaged plugins like fastestmirror open sockets
--   by design.
-- attack: T1546.016, T1105
-- platform: linux
-- interval: 3600
-- mode: differential
-- kind: detection
-- source: pkgpersist
-- false_positives: proxy auto-detection helpers; update hooks of monitoring agents;
--   plugins installed by hand (not from a package) that talk to the network.
-- severity: high
-- next: read the command and the file in path; fetch nothing it names, and find who wrote the file
SELECT manager, hook, command, path FROM (
  SELECT 'apt' AS manager, hook, command, path FROM apt_hooks WHERE active = 1
  UNION ALL
  SELECT 'dpkg', hook, command, path FROM dpkg_hooks WHERE active = 1
  UNION ALL
  SELECT manager, trigger, command, path FROM package_manager_actions WHERE enabled = 1
  UNION ALL
  SELECT 'pacman', "when",
         (SELECT group_concat(value, ' ') FROM json_each(CASE WHEN json_valid(exec) THEN exec ELSE '[]' END)),
         path FROM alpm_hooks WHERE effective = 1
  UNION ALL
  SELECT 'rpm', name, value, path FROM rpm_macros
    WHERE loaded = 1 AND (shell = 1 OR lua = 1 OR loads = 1)
)
WHERE command LIKE '%curl %' OR command LIKE '%wget %' OR command LIKE '%/dev/tcp/%'
   OR command LIKE '%nc -%' OR command LIKE '%ncat %' OR command LIKE '%base64 -d%'
   OR command LIKE '%| sh%' OR command LIKE '%|sh%' OR command LIKE '%| bash%'
UNION
SELECT manager, hook, command, path FROM hook_targets
  WHERE active = 1 AND fetches != '' AND command != ''
UNION
SELECT manager, 'plugin ' || name, calls, path FROM (
  SELECT manager, name, calls, path FROM dnf_plugins
    WHERE imported = 1 AND (package = '' OR package_modified = 1)
  UNION ALL
  SELECT manager, name, calls, path FROM yum_plugins
    WHERE imported = 1 AND (package = '' OR package_modified = 1)
)
WHERE calls LIKE '% socket.%' OR calls LIKE '%urlopen%' OR calls LIKE '%urlretrieve%'
   OR calls LIKE '% requests.%' OR calls LIKE '%http.client.%' OR calls LIKE '%httplib.%'
   OR calls LIKE '%curl %' OR calls LIKE '%wget %' OR calls LIKE '%/dev/tcp/%'
