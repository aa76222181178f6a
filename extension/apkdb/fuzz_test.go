package apkdb

import (
	"bytes"
	"testing"
)

func FuzzParseInstalled(f *testing.F) {
	f.Add([]byte("C:Q1abcdefghijklmnopqrstuvwxyz0=\nP:busybox\nV:1.36.1-r2\nF:etc/apk/commit_hooks.d\nR:x\nZ:Q1AAAAAAAAAAAAAAAAAAAAAAAAAAA=\n\n"))
	f.Add([]byte("P:a\nR:before-dir\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		pkgs, _ := ParseInstalled(bytes.NewReader(data), nil)
		for _, p := range pkgs {
			if p.Name == "" {
				t.Fatalf("a package without a name: %+v", p)
			}
		}
	})
}

func FuzzParseTriggers(f *testing.F) {
	f.Add([]byte("Q1abcdefghijklmnopqrstuvwxyz0= /usr/share/fonts/* +/usr/lib/x\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		_, _ = ParseTriggers(bytes.NewReader(data))
	})
}

func FuzzReadScripts(f *testing.F) {
	f.Add(scriptsTar(f, map[string]string{"busybox-1.0-r0.X1" + hexID + ".trigger": "#!/bin/sh\n"}))
	f.Fuzz(func(t *testing.T, data []byte) {
		scripts, _ := ReadScripts(bytes.NewReader(data), nil)
		for _, s := range scripts {
			if !s.Identity.Valid() || len(s.SHA256) != 64 {
				t.Fatalf("bad script %+v", s)
			}
		}
	})
}
