// Command pkgpersist.ext is the pkgpersist osquery extension.
package main

import (
	"os"

	"github.com/pkgpersist/pkgpersist/extension/server"
)

func main() {
	os.Exit(server.Main(os.Args[1:], os.Stdout, os.Stderr))
}
