// Command pkgpersist is the collector: it runs the hunt queries on this
// host, mounted roots and fleets, and reports what it finds.
package main

import (
	"os"

	"github.com/pkgpersist/pkgpersist/collector/cli"
)

func main() {
	os.Exit(cli.Main(os.Args[1:], os.Stdout, os.Stderr))
}
