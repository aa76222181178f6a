-- id: unevaluated-files
-- title: Package-manager files that could not be evaluated
-- description: Files a package manager reads that pkgpersist could not evaluate in full:
--   larger than its bounds or its time allows, a FIFO or device where the package manager
--   reads a file, a symlink loop. An attacker pads a file to hide a hook in it; whatever is
--   in such a file is unknown, so the host is not clean until someone looks at it.
-- attack: T1546.016, T1027.001
-- platform: linux
-- interval: 3600
-- mode: differential
-- kind: detection
-- source: pkgpersist
-- false_positives: none expected on a healthy host; a very slow disk or an overloaded host
--   can make a large but harmless file exceed the time bound (cause deadline).
-- severity: medium
-- next: read the file in path by hand: pkgpersist could not evaluate it, and the reason says why
SELECT source, path, cause, reason FROM pkgpersist_coverage
  WHERE status = 'unevaluated'
