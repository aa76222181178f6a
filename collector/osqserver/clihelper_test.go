package osqserver_test

import (
	"encoding/json"
	"os"
	"testing"

	"github.com/pkgpersist/pkgpersist/collector/cli"
)

// TestCLIHelper runs the pkgpersist command line in this process when
// PKGPERSIST_CLI_ARGS holds its arguments (a JSON array): the load test
// runs `pkgpersist hunt --enrolled` as its own process, as an operator
// does, beside the server it loads. It does nothing in a normal run.
func TestCLIHelper(t *testing.T) {
	env := os.Getenv("PKGPERSIST_CLI_ARGS")
	if env == "" {
		t.Skip("a helper process for TestLoad")
	}
	var args []string
	if err := json.Unmarshal([]byte(env), &args); err != nil {
		t.Fatal(err)
	}
	os.Exit(cli.Main(args, os.Stdout, os.Stderr))
}
