package apthooks

import "testing"

func TestRunsWithShell(t *testing.T) {
	for hook, want := range map[string]bool{
		"DPkg::Post-Invoke": true, "APT::Update::Pre-Invoke": true, "dpkg::pre-install-pkgs": true,
		"AptCli::Hooks::Install": true, "DPkg::Options": true, "Binary::apt::DPkg::Pre-Invoke": true,
		"Acquire::http::Proxy-Auto-Detect": false, "Acquire::https::ProxyAutoDetect": false,
		"Dir::Bin::dpkg": false, "Dir::Bin::solvers": false, "Binary::apt-get::Dir::Bin::methods": false,
		"APT::Update": false, "": false,
	} {
		if got := RunsWithShell(hook); got != want {
			t.Errorf("%q: %v, want %v", hook, got, want)
		}
	}
}
