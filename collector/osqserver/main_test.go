package osqserver

import (
	"os"
	"testing"

	"github.com/pkgpersist/pkgpersist/test/storetest"
)

func TestMain(m *testing.M) { os.Exit(storetest.Main(m)) }
