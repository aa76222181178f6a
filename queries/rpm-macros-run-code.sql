-- id: rpm-macros-run-code
-- title: rpm macros that run code or load plugins, from files no package installed
-- description: Macro definitions rpm loads (every rpm command reads its macro
--   path: /usr/lib/rpm/macros, macros.d/macros.*, /etc/rpm/macros*, each
--   user's ~/.rpmmacros, or ~/.config/rpm/macros for rpm 4.20) whose value runs a shell (%( … ), also escaped as
--   %%( inside %{expand:} or a %global body, which rpm expands twice) or
--   Lua (%{lua: … }) or loads a macro file off the macro path
--   (%{load: … }) whenever the macro is expanded, or that holds such code
--   escaped (%%( … ), which any other macro's %{expand:} runs), or that set which shared
--   object rpm loads into every transaction (%__transaction_<name>,
--   %__plugindir; an empty value disables a plugin such as selinux, ima or
--   fapolicyd) or where rpm writes its temporary scripts (%_tmppath), in a
--   file no package owns or whose content no longer has its package's
--   checksum, and in every user's macro file (users names whose rpm
--   reads it) even when a package owns it: no package has a reason to ship
--   one. Definitions a later file overrides are listed too
--   (effective 0, reason says where): the file that holds them was still
--   planted or changed. rpm's own packaged macro files use %( ) and Lua by
--   design and are left out while unchanged.
-- attack: T1546.016, T1562.001
-- platform: linux
-- interval: 3600
-- mode: differential
-- kind: detection
-- source: pkgpersist
-- false_positives: a packager's ~/.rpmmacros on a build host (%_topdir
--   %(echo $HOME)/rpmbuild, %_smp_mflags); /etc/rpm/macros.* an
--   administrator or an image build wrote or edited (%__transaction_selinux
--   %{nil} in containers, %_tmppath on hosts with a small /var); macro files
--   of build tools installed from source.
-- severity: high
-- next: read the definition at path:line and the command or Lua in value; find who wrote the file, and which rpm commands have run since
SELECT path, line, name, value, effective, shell, lua, loads, category, users, package, package_modified, reason
FROM rpm_macros
WHERE loaded = 1 AND name != ''
  AND (shell = 1 OR lua = 1 OR loads = 1 OR category != ''
       OR instr(value, '%%(') > 0 OR instr(value, '%%{lua') > 0 OR instr(value, '%%lua') > 0
       OR instr(value, '%%{load') > 0 OR instr(value, '%%load') > 0)
  AND (package = '' OR package_modified = 1 OR users != '')
