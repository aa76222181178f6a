package osqserver

import (
	"os"
	"testing"

	"github.com/pkgpersist/pkgpersist/test/storetest"
)

// TestMain stops the PostgreSQL server the replica tests started.
func TestMain(m *testing.M) { os.Exit(storetest.Main(m)) }
